"""Where jobs live: the SQL tables, sessions, writes of each pipeline step, the cost ledger."""
