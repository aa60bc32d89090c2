"""民主评议党员: the annual appraisal (issue 13)."""
