"""The learning loop's data: the curation inbox (grouping, resolutions) and curators.

What goes in, how items are grouped and what a resolution writes: ``curation.inbox``; the
grouping key and near-duplicates: ``curation.grouping``; who may curate: ``curation.roles``.
Curated examples themselves live with the knowledge base (``knowledge.models.CuratedExample``).
"""
