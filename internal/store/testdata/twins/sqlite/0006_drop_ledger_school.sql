-- Nothing reads the ledger by school and sequence; every ledger append
-- paid for this index.
DROP INDEX ledger_school;
