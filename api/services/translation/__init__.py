"""The translation workflow and what it runs on: checks, differences, PO catalogs."""
