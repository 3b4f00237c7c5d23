//! SQL dialects, by the names warehouses and dbt adapters give them, mapped to sqlparser's.

use sqlparser::dialect::{
    AnsiDialect, BigQueryDialect, ClickHouseDialect, DatabricksDialect, DuckDbDialect,
    GenericDialect, HiveDialect, MsSqlDialect, MySqlDialect, OracleDialect, PostgreSqlDialect,
    RedshiftSqlDialect, SQLiteDialect, SnowflakeDialect, SparkSqlDialect, TeradataDialect,
};

/// A dialect sqlparser can parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    Generic,
    Ansi,
    Snowflake,
    BigQuery,
    Postgres,
    Redshift,
    Databricks,
    Spark,
    Hive,
    DuckDb,
    MsSql,
    MySql,
    Sqlite,
    ClickHouse,
    Oracle,
    Teradata,
}

impl Dialect {
    /// What to try, in order, when the warehouse is not known.
    pub const CHAIN: &'static [Dialect] = &[
        Dialect::Generic,
        Dialect::Snowflake,
        Dialect::BigQuery,
        Dialect::Postgres,
        Dialect::Redshift,
        Dialect::Databricks,
        Dialect::DuckDb,
        Dialect::MsSql,
    ];

    /// The names [`Dialect::from_name`] knows best, for messages.
    pub const NAMES: &'static [&'static str] = &[
        "generic",
        "ansi",
        "snowflake",
        "bigquery",
        "postgres",
        "redshift",
        "databricks",
        "spark",
        "hive",
        "duckdb",
        "mssql",
        "mysql",
        "sqlite",
        "clickhouse",
        "oracle",
        "teradata",
        "trino",
    ];

    /// The dialect of a dbt adapter type or warehouse name (`snowflake`, `sqlserver`,
    /// `trino`…), case-insensitively; `None` for a name we do not know.
    pub fn from_name(name: &str) -> Option<Dialect> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "generic" => Dialect::Generic,
            "ansi" => Dialect::Ansi,
            "snowflake" => Dialect::Snowflake,
            "bigquery" => Dialect::BigQuery,
            "postgres" | "postgresql" | "materialize" | "alloydb" | "greenplum" => {
                Dialect::Postgres
            }
            "redshift" => Dialect::Redshift,
            "databricks" => Dialect::Databricks,
            "spark" | "sparksql" | "glue" => Dialect::Spark,
            "hive" | "impala" => Dialect::Hive,
            "duckdb" | "motherduck" => Dialect::DuckDb,
            "mssql" | "sqlserver" | "tsql" | "synapse" | "fabric" => Dialect::MsSql,
            "mysql" | "mariadb" | "tidb" | "singlestore" => Dialect::MySql,
            "sqlite" => Dialect::Sqlite,
            "clickhouse" => Dialect::ClickHouse,
            "oracle" => Dialect::Oracle,
            "teradata" => Dialect::Teradata,
            // sqlparser has no Trino dialect; its generic dialect reads Trino's arrays,
            // lambdas and `ROW` types.
            "trino" | "presto" | "athena" | "starburst" => Dialect::Generic,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Generic => "generic",
            Dialect::Ansi => "ansi",
            Dialect::Snowflake => "snowflake",
            Dialect::BigQuery => "bigquery",
            Dialect::Postgres => "postgres",
            Dialect::Redshift => "redshift",
            Dialect::Databricks => "databricks",
            Dialect::Spark => "spark",
            Dialect::Hive => "hive",
            Dialect::DuckDb => "duckdb",
            Dialect::MsSql => "mssql",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
            Dialect::ClickHouse => "clickhouse",
            Dialect::Oracle => "oracle",
            Dialect::Teradata => "teradata",
        }
    }

    pub(crate) fn parser_dialect(self) -> &'static dyn sqlparser::dialect::Dialect {
        match self {
            Dialect::Generic => &GenericDialect,
            Dialect::Ansi => &AnsiDialect {},
            Dialect::Snowflake => &SnowflakeDialect,
            Dialect::BigQuery => &BigQueryDialect,
            Dialect::Postgres => &PostgreSqlDialect {},
            Dialect::Redshift => &RedshiftSqlDialect {},
            Dialect::Databricks => &DatabricksDialect {},
            Dialect::Spark => &SparkSqlDialect {},
            Dialect::Hive => &HiveDialect {},
            Dialect::DuckDb => &DuckDbDialect {},
            Dialect::MsSql => &MsSqlDialect {},
            Dialect::MySql => &MySqlDialect {},
            Dialect::Sqlite => &SQLiteDialect {},
            Dialect::ClickHouse => &ClickHouseDialect {},
            Dialect::Oracle => &OracleDialect {},
            Dialect::Teradata => &TeradataDialect {},
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapter_names_map_to_dialects() {
        assert_eq!(Dialect::from_name("Snowflake"), Some(Dialect::Snowflake));
        assert_eq!(Dialect::from_name("sqlserver"), Some(Dialect::MsSql));
        assert_eq!(Dialect::from_name("trino"), Some(Dialect::Generic));
        assert_eq!(Dialect::from_name("nonesuch"), None);
        for d in Dialect::CHAIN {
            assert_eq!(Dialect::from_name(d.name()), Some(*d));
        }
        for n in Dialect::NAMES {
            assert!(Dialect::from_name(n).is_some(), "{n}");
        }
    }
}
