"""The full-text index of knowledge_searchdocument, per database:

- PostgreSQL: a generated tsvector column `search_vector` ('simple' configuration: no stemming, so
  English and French text are matched alike) and a GIN index on it;
- SQLite: an FTS5 table `knowledge_searchdocument_fts` (external content) and the triggers that keep it
  in step with every insert, update and delete of the documents.
Neither is in the model state: the ORM never writes them.
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE knowledge_searchdocument ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(body, '')), 'B')) STORED",
    "CREATE INDEX knowledge_searchdoc_vector_gin ON knowledge_searchdocument USING gin (search_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS knowledge_searchdoc_vector_gin",
    "ALTER TABLE knowledge_searchdocument DROP COLUMN IF EXISTS search_vector",
]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE knowledge_searchdocument_fts USING fts5(title, body, content='knowledge_searchdocument', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER knowledge_searchdoc_ai AFTER INSERT ON knowledge_searchdocument BEGIN "
    "INSERT INTO knowledge_searchdocument_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER knowledge_searchdoc_ad AFTER DELETE ON knowledge_searchdocument BEGIN "
    "INSERT INTO knowledge_searchdocument_fts(knowledge_searchdocument_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER knowledge_searchdoc_au AFTER UPDATE ON knowledge_searchdocument BEGIN "
    "INSERT INTO knowledge_searchdocument_fts(knowledge_searchdocument_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO knowledge_searchdocument_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_au",
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_ad",
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_ai",
    "DROP TABLE IF EXISTS knowledge_searchdocument_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_runbooks_docs_vault")]

    operations = [
        migrations.RunPython(_run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
                             _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})),
    ]
