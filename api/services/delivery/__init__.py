"""What readers get: essays, sections, previews, releases and progress in a locale."""
