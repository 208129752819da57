"""Telegram only: the application wiring, typed state, callback data, one module per feature, the sender.

The only package that imports ``telegram``; everything below it is plain code.
"""
