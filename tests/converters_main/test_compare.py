"""The comparison the round-trip tests rely on: what an archive says, not how it is stored."""

from __future__ import annotations

from converters.main import convert
from converters.main.compare import main_digest
from tests.converters_main.helpers import edit_main, legacy_archive


def test_row_order_and_pks_do_not_count_but_content_does(tmp_path):
    main = tmp_path / "main.aiida"
    convert(legacy_archive(tmp_path), main)
    # the same links listed in reverse, and every node under another pk: what another export may write
    reordered = edit_main(
        main, tmp_path / "reordered.aiida",
        "CREATE TABLE l AS SELECT * FROM db_dblink ORDER BY id DESC",
        "DELETE FROM db_dblink", "INSERT INTO db_dblink (input_id, output_id, label, type) SELECT input_id, output_id, label, type FROM l",
        "DROP TABLE l", "PRAGMA foreign_keys = ON",
        "UPDATE db_dbnode SET id = id + 100", "UPDATE db_dblink SET input_id = input_id + 100, output_id = output_id + 100",
        "UPDATE db_dbgroup_dbnodes SET dbnode_id = dbnode_id + 100", "UPDATE db_dblog SET dbnode_id = dbnode_id + 100",
        "UPDATE db_dbcomment SET dbnode_id = dbnode_id + 100",
    )  # fmt: skip
    assert main_digest(reordered) == main_digest(main)
    relabelled = edit_main(main, tmp_path / "relabelled.aiida", "UPDATE db_dblink SET label = 'other' WHERE id = 1")
    assert main_digest(relabelled) != main_digest(main)
    rewired = edit_main(main, tmp_path / "rewired.aiida", "UPDATE db_dblink SET input_id = output_id WHERE id = 1")
    assert main_digest(rewired) != main_digest(main)
