"""The REST API (``/api/v1/``): projects, tasks, notifications and the portfolio,
with personal tokens (``Authorization: Bearer``). Reads through the selectors and
writes through the services, with the pages' forms as the rules: the API can do
nothing a page refuses."""
