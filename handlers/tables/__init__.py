"""Data tables the journeys offer (labels are catalog msgids, marked with N_); not `data/`, which is ignored."""
