"""Statistics of questions and support tickets: figures from SQL, charts, CSV and the daily digest.

No Telegram here (``bot/features/stats.py`` sends what these modules build).
"""
