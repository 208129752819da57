"""Vietnamese NLU: normalisation, the Rasa project and its components, and the NLU client.

Kept free of heavy imports so the Rasa environment (Python 3.10) and the main
environment (Python 3.11) can both import ``nlu.normalize``.
"""
