"""Problems with files as a whole: reading, YAML syntax, includes, many errors at once."""

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

import pytest

from tests.unit.test_config_errors import FLEET, endpoint, file_issues, issues_of

# --- the file itself ---------------------------------------------------------


def test_it_reports_a_yaml_syntax_error_with_its_line() -> None:
    text = FLEET + "endpoints:\n  - id: portal\n   agency: [ngsp\n"
    [issue] = issues_of(text)
    assert issue.startswith("fleet.yaml:7: not valid YAML:")


def test_it_says_an_empty_file_is_empty_and_what_it_expects() -> None:
    assert issues_of("") == [
        "fleet.yaml: the file is empty; expected a mapping with keys center, auth, agencies, "
        "endpoints, series, rules, channels, routes, maintenance, include"
    ]


def test_a_file_with_only_comments_counts_as_empty() -> None:
    [issue] = issues_of("# nothing here yet\n\n")
    assert "the file is empty" in issue


def test_it_rejects_a_top_level_that_is_not_a_mapping() -> None:
    [issue] = issues_of("- id: ngsp\n  name: NGSP\n")
    assert issue.startswith("fleet.yaml:1: expected a mapping with keys center, auth")
    assert issue.endswith("at the top level, got a list")


def test_it_names_an_unknown_top_level_key_and_suggests_the_closest() -> None:
    assert issues_of(FLEET + "endpionts: []\n") == [
        "fleet.yaml:5: endpionts: unknown top-level key 'endpionts'; did you mean 'endpoints'?"
    ]


def test_it_names_an_unknown_nested_key_and_suggests_the_closest() -> None:
    assert issues_of(FLEET + endpoint(timout="5s")) == [
        "fleet.yaml:9: endpoints[0].timout: unknown key 'timout'; did you mean 'timeout'?"
    ]


def test_a_top_level_list_key_must_hold_a_list() -> None:
    assert issues_of(FLEET + "rules: {id: down}\n") == [
        "fleet.yaml:5: rules: expected a list, got dict"
    ]


def test_a_key_repeated_in_one_mapping_is_reported_with_both_lines() -> None:
    text = FLEET + endpoint(interval="30s") + "    interval: 60s\n"
    assert issues_of(text) == [
        "fleet.yaml:10: endpoints[0].interval: duplicate key 'interval' (first at line 9)"
    ]


def test_it_reports_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    assert file_issues(missing) == [f"{missing}: cannot read the file: No such file or directory"]


def test_it_reports_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    # A directory fails the same way as a permission problem, even for root.
    [issue] = file_issues(tmp_path)
    assert issue.startswith(f"{tmp_path}: cannot read the file: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of mode")
def test_it_reports_a_file_without_read_permission(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    path.chmod(0)
    assert file_issues(path) == [f"{path}: cannot read the file: Permission denied"]


def test_it_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_bytes(b"agencies:\n  - id: h\xe0-noi\n")
    assert file_issues(path) == [f"{path}: the file is not UTF-8 text (bad byte at offset 19)"]


# --- several problems, several files -------------------------------------------


def test_it_reports_all_problems_of_a_file_at_once() -> None:
    text = FLEET + dedent("""\
        endpoints:
          - id: portal
            agency: hanoi
            url: ftp://portal.gov.vn
            interval: ten
          - id: portal
            agency: ngsp
            url: https://portal.gov.vn
        channels:
          - {id: ops, kind: telegram}
        routes:
          - channels: [pager]
        colour: blue
        """)
    assert issues_of(text) == [
        "fleet.yaml:7: endpoints[0].agency: unknown agency 'hanoi'",
        "fleet.yaml:8: endpoints[0].url: expected an http:// or https:// URL, "
        "got 'ftp://portal.gov.vn'",
        "fleet.yaml:9: endpoints[0].interval: expected a duration like 10s, 5m or 1h, got 'ten'",
        "fleet.yaml:10: endpoints[1].id: duplicate endpoint id 'portal'; "
        "first defined at fleet.yaml:6",
        "fleet.yaml:14: channels[0]: a telegram channel needs 'bot_token' and 'chat_id' "
        "(missing: bot_token, chat_id)",
        "fleet.yaml:16: routes[0].channels[0]: unknown channel 'pager'",
        "fleet.yaml:17: colour: unknown top-level key 'colour'; expected one of center, auth, "
        "agencies, endpoints, series, rules, channels, routes, maintenance, include",
    ]


def test_an_included_files_error_names_that_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET + "include: [provinces/*.yaml]\n")
    (tmp_path / "provinces").mkdir()
    (tmp_path / "provinces" / "hanoi.yaml").write_text(
        "# Ha Noi\nendpoints:\n  - id: hanoi-portal\n    agency: ngsp\n"
        "    url: https://dichvucong.hanoi.gov.vn/\n    interval: 5 minutes\n"
    )
    assert file_issues(tmp_path / "fleet.yaml") == [
        f"{tmp_path}/provinces/hanoi.yaml:6: endpoints[0].interval: "
        "expected a duration like 10s, 5m or 1h, got '5 minutes'"
    ]


def test_list_indexes_in_errors_count_items_of_all_files(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET + endpoint() + "include: [more.yaml]\n")
    (tmp_path / "more.yaml").write_text(
        "endpoints:\n  - {id: second, agency: ngsp, url: https://b.gov.vn/, timeout: 0s}\n"
    )
    assert file_issues(tmp_path / "fleet.yaml") == [
        f"{tmp_path}/more.yaml:2: endpoints[1].timeout: expected a duration greater than zero"
    ]


def test_center_defined_in_two_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("center: {name: A}\ninclude: [other.yaml]\n")
    (tmp_path / "other.yaml").write_text("# other\ncenter: {name: B}\n")
    assert file_issues(tmp_path / "fleet.yaml") == [
        f"{tmp_path}/other.yaml:2: center: 'center' is already defined at "
        f"{tmp_path}/fleet.yaml:1; it may appear only once"
    ]


def test_a_missing_included_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET + "include: [agencies.yml]\n")
    assert file_issues(tmp_path / "fleet.yaml") == [
        f"{tmp_path}/agencies.yml: cannot read the file: No such file or directory"
    ]


def test_an_include_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET + "include: [more.yaml]\n")
    (tmp_path / "more.yaml").write_text("include: [fleet.yaml]\n")
    assert file_issues(tmp_path / "fleet.yaml") == [
        f"{tmp_path}/more.yaml:1: include[0]: {tmp_path}/fleet.yaml is already being loaded "
        "(an include cycle)"
    ]


def test_an_included_file_with_an_unknown_key_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET + "include: [more.yaml]\n")
    (tmp_path / "more.yaml").write_text("\n\nalerts: []\n")
    [issue] = file_issues(tmp_path / "fleet.yaml")
    assert issue.startswith(f"{tmp_path}/more.yaml:3: alerts: unknown top-level key 'alerts'")


# --- hostile or odd YAML ----------------------------------------------------------


def test_a_control_character_is_reported_with_its_line() -> None:
    assert issues_of("center:\n  name: bell\x07\n") == [
        "fleet.yaml:2: not valid YAML: the character '\\x07' is not allowed in YAML"
    ]


def test_python_object_tags_are_refused() -> None:
    assert issues_of("center: !!python/object/apply:os.system [echo hi]\n") == [
        "fleet.yaml:1: center: unsupported YAML tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ]


def test_an_alias_bomb_is_refused_instead_of_exhausting_memory() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    issues = issues_of("\n".join(lines) + "\n")
    assert "fleet.yaml:1: the document is too large (too many aliases?)" in issues


def test_absurdly_deep_nesting_is_an_error_not_a_crash() -> None:
    [issue] = issues_of("center: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert issue == "fleet.yaml: not valid YAML: nested too deeply"


def test_more_than_one_yaml_document_is_an_error() -> None:
    [issue] = issues_of(FLEET + "---\ncenter: {name: X}\n")
    assert issue.startswith("fleet.yaml:5: not valid YAML:")


def test_include_must_name_files() -> None:
    assert issues_of(FLEET + "include: {file: a.yaml}\n") == [
        "fleet.yaml:5: include: expected a list of file names or glob patterns"
    ]
