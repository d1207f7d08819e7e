"""Aids to translators: the translation memory, the glossary and words' inflected forms."""
