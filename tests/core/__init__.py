"""Tests of core/: the record, the vocabulary, windows, series and the stores."""
