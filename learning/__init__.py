"""The learning loop's model side: retraining in another process, the quality gate, publishing to
the running NLU servers without dropping answers, versions and rollback."""
