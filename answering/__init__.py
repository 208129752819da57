"""The answer path without Telegram: normalise → classify → decide → format, and what opens it.

The console, the Telegram features, the benchmarks and the tests all run this same code.
"""
