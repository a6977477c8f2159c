"""Web pages, one module per page; ``core.urls`` maps them."""
