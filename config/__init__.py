"""The fleet's configuration: typed settings from `TIERLINE_*` variables, and the tiers file."""
