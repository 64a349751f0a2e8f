#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data volume
# (/docker-entrypoint-initdb.d), as the image's superuser.
#
# - `muhurta`: the application's role. It owns its database and so the tables the migrations
#   create, but it is NOT a superuser and has NO BYPASSRLS: PostgreSQL's row-level security
#   (FORCE ROW LEVEL SECURITY in migrations/rls.py) applies to it. `muhurta doctor` checks this.
# - `temporal`: Temporal's persistence, in two databases of its own (temporal,
#   temporal_visibility), so that the application role can never read workflow histories and
#   Temporal's role can never read the application's rows.
#
# Passwords come from the container's environment (MUHURTA_DB_PASSWORD, TEMPORAL_DB_PASSWORD,
# set from .env by docker-compose.yml); they are passed to psql as variables and quoted by psql.
# To change anything here on an existing volume, run the equivalent SQL by hand: this script
# never runs again once the data directory exists.
set -euo pipefail

: "${MUHURTA_DB_PASSWORD:?MUHURTA_DB_PASSWORD must be set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
     -v muhurta_password="${MUHURTA_DB_PASSWORD}" \
     -v temporal_password="${TEMPORAL_DB_PASSWORD}" <<'SQL'
-- The application
CREATE ROLE muhurta LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'muhurta_password';
CREATE DATABASE muhurta OWNER muhurta ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE muhurta FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE muhurta TO muhurta;

-- Temporal's persistence and visibility stores (auto-setup creates the schemas in them;
-- the visibility schema's CREATE EXTENSION btree_gin works for the owner: it is a trusted
-- extension)
CREATE ROLE temporal LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE temporal_visibility OWNER temporal ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
SQL

echo "muhurta init: created roles muhurta (NOSUPERUSER NOBYPASSRLS) and temporal, and their databases"
