"""What the assistant was asked and what it did: question records, hand-off requests, the batched writer.

Telegram ids only, never names; phone numbers are masked before anything is stored.
"""
