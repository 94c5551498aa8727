"""The tagger's version, apart from the tagger: a replay compares it with stored tags
(warehouse/tag_reuse.py) without importing spaCy (~1.2 s).

TAGGER_VERSION is the version of what condition_tags and record_conditions say: bump it when the
tagger (extract/tagger.py), the lexicon or the merge with indexing (extract/indexed_conditions.py)
changes, so `trialwatch retag` redoes stored records and a replay reuses no tags of the old one.
"""
TAGGER_VERSION = "1.4.0"
# sha256 of the shipped conditions.toml; a test fails when the lexicon changes without a bump.
LEXICON_SHA256 = "49cfda15b4ea0e59c2f3616597773d424b066bd3e15c50d9cccdef1578352ce8"
