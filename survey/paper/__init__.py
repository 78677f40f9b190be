"""Paper ballots: printing numbered ballots per desk, entering them fast, double entry."""
