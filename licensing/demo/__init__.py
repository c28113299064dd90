"""Demo data: the demo people (`seed_demo`) and applications written in bulk in every state.

Beside the services, not one of them: the bulk seeder writes rows with COPY, and
`licensing.consistency` (run over every seeded case by `tests/demo/test_seeding.py`)
checks that it leaves no state the services could not have left. Import from the
concern's module.
"""
