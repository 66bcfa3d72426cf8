package store

// MigrationFS is the embedded migrations, for tests.
var MigrationFS = migrationFS
