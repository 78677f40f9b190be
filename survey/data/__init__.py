"""Data: the models, the rollup of answer counts, the audit log and the queries
several features share. No HTTP here: callers pass plain values."""
