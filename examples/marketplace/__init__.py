"""A small marketplace that embeds vendorbell's bell (see docs/embedding-element.md)."""
