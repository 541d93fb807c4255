"""`tts analyze`: table, JSON, JSON Lines from a file, options and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tts.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_table(capsys) -> None:
    code, out, err = run(capsys, "analyze", "Hello, world!")
    assert code == 0 and err == ""
    assert "hello            cmudict   HH AH0 | L OW1" in out
    phone_rows = [line.split() for line in out.splitlines() if line[:3].strip().isdigit()]
    assert [row[1] for row in phone_rows] == ["sil", "HH", "AH0", "L", "OW1", "sp",
                                              "W", "ER1", "L", "D", "sil"]
    assert phone_rows[1][2] == "18"  # the id of HH


def test_json(capsys) -> None:
    code, out, _ = run(capsys, "analyze", "--json", "Is the FBI here?")
    assert code == 0
    result = json.loads(out)
    assert result["words"] == ["is", "the", "F", "B", "I", "here"]
    assert result["phonemes"][0] == "sil" and result["phonemes"][-1] == "sil"
    assert len(result["stress"]) == len(result["phonemes"]) and all(result["is_question"])


def test_file_json_lines_keep_order_and_report_bad_lines(capsys, tmp_path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("First line.\n\n😀\nsay {HH XX}\nLast one?\n", encoding="utf-8")
    code, out, _ = run(capsys, "analyze", "-f", str(path), "--json")
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 5
    assert results[0]["words"] == ["first", "line"] and "error" not in results[0]
    for bad in results[1:4]:
        assert bad["words"] == [] and bad["phonemes"] == [] and bad["error"]
    assert "no speakable words" in results[2]["error"] and "XX" in results[3]["error"]
    assert results[4]["words"] == ["last", "one"] and all(results[4]["is_question"])


def test_lexicon_and_espeak_options(capsys, tmp_path) -> None:
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("hello HH EH2 L OW1\n")
    code, out, _ = run(capsys, "analyze", "--json", "--lexicon", str(lexicon), "hello")
    assert code == 0 and json.loads(out)["phonemes"] == ["sil", "HH", "EH2", "L", "OW1", "sil"]
    if shutil.which("espeak-ng"):
        code, out, _ = run(capsys, "analyze", "--json", "--backend", "espeak",
                           "--language", "fr-fr", "bonjour")
        assert code == 0 and "ZH" in json.loads(out)["phonemes"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["analyze"], "give either TEXT or -f FILE"),
        (["analyze", "😀"], "text contains no speakable words"),
        (["analyze", "say {HH XX}"], "unknown phoneme 'XX'"),
        (["analyze", "say {HH AH0"], "unbalanced"),
        (["analyze", "--lexicon", "/nonexistent/lexicon.txt", "hi"], "lexicon file not found"),
        (["analyze", "-f", "/nonexistent/lines.txt"], "/nonexistent/lines.txt"),
        (["analyze", "--backend", "festival", "hi"], "festival"),
        (["analyze", "--backend", "espeak", "--language", "xx-nowhere", "hi"], "xx-nowhere"),
    ],
)
def test_errors_are_one_line(capsys, args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code != 0 and out == ""
    assert err.startswith("tts: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_file_that_is_not_utf8(capsys, tmp_path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9\n".encode("latin-1"))
    code, _, err = run(capsys, "analyze", "-f", str(path))
    assert code == 1 and err.startswith(f"tts: error: {path} is not UTF-8 text: convert it")
    assert err.count("\n") == 1


def test_installed_script() -> None:
    tts = shutil.which("tts")
    command = [tts] if tts else [sys.executable, "-m", "tts"]
    done = subprocess.run(command + ["analyze", "--json", "Hello there."],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["words"] == ["hello", "there"]
    failed = subprocess.run(command + ["analyze", "{"], capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 1
    assert failed.stderr.startswith("tts: error: unbalanced") and "Traceback" not in failed.stderr
