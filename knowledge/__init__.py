"""The curated knowledge base: content files, validation, topics and training examples, the repository, its CLI.

Never imports ``telegram``, ``bot`` or ``nlu``; the answering layer joins them.
"""
