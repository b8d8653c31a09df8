"""Runs iiif-validator-ng (PyPI 0.1.0) through its library API and prints every result.

The package's own `iiif-validator` command prints only failures (through a progress bar) and
always exits 0, so scripts/validate-ng.sh runs this instead: the same tests, chosen the same way
(iiif_validator.validate.run_tests reads the server's info.json and keeps the tests that its
level and extra features call for), one line per result, a closing count, exit 1 on any failure. Each test runs after
random.seed("SEED MODULE"), so --seed replays a run's random rotations, regions and sizes.

    python validate_ng.py BASE_URL [--v2] [--id ID] [--seed S] [--known MODULE[:TEXT]]... [--all-angles]

--all-angles runs, instead of the suite, the check of the validator's rot_full_non90 test
(tests/rot_full_non90.py: the full image at rotation r against libvips' rotate of the
validator's own validation_image.png, centre 300x300 at (300,300), mean absolute difference
< 6) for every integer angle 1..359 that is not a multiple of 90, printing each mean difference;
with --on-black, on the PNG output flattened onto black (libvips' background) instead of the JPEG.
"""

import argparse
import random
import sys

from urllib.error import HTTPError

from iiif_validator.validate import _test_is_applicable
from iiif_validator.tests.test import (
    IIIFVersion,
    ImageAPIRequest,
    TargetServer,
    ValidationFailure,
    get_expected_image,
    get_image,
    get_tests,
)


def one_line(text) -> str:
    return " ".join(str(text).split())


def is_known(module: str, res: ValidationFailure, known: list[str]) -> bool:
    """--known MODULE or MODULE:TEXT: a failure of that test (whose details or received text
    contain TEXT) is reported as KNOWN and does not fail the run."""
    for k in known:
        name, _, text = k.partition(":")
        if name == module and (not text or text in res.details or text in res.received):
            return True
    return False


def run_suite(server: TargetServer, seed: int, known: list[str]) -> int:
    """The tests iiif_validator.validate.run_tests would choose, run one at a time, each after
    random.seed(f"{seed} {module}"), so a seed replays every random draw whatever the order
    (run_tests runs them on threads from one shared generator, and some tests reseed it)."""
    features = server.feature_set()
    print(f"server: Image API {server.version.value}, {features.compliance_level.name}")
    print(f"  extra formats: {', '.join(features.extra_formats) or '-'}")
    print(f"  extra qualities: {', '.join(features.extra_qualities) or '-'}")
    print(f"  extra features: {', '.join(features.extra_features) or '-'}")
    print(f"  caching headers: {features.supports_caching}")
    tests = [t for t in get_tests(server.version) if _test_is_applicable(t, features)]
    tests.sort(key=lambda t: t.__module__)
    print(f"{len(tests)} applicable tests")
    passed = failed = tolerated = 0
    failed_tests = []
    for test in tests:
        module = test.__module__.split(".")[-1]
        random.seed(f"{seed} {module}")
        try:
            result = test.run(server)
        except Exception as exc:  # as run_tests reports it
            result = ValidationFailure(
                url=exc.url if isinstance(exc, HTTPError) else "<unknown>",
                expected="Test to complete without error",
                received=f"Test raised an exception: {exc}",
                details="An unexpected error occurred during the test execution",
            )
        for res in result if isinstance(result, list) else [result]:
            if isinstance(res, ValidationFailure):
                if is_known(module, res, known):
                    tolerated += 1
                    word = "KNOWN"
                else:
                    failed += 1
                    word = "FAIL"
                    if module not in failed_tests:
                        failed_tests.append(module)
                print(
                    f"{word} {module}: {one_line(res.details)}\n"
                    f"       expected: {one_line(res.expected)}\n"
                    f"       received: {one_line(res.received)[:500]}\n"
                    f"       url: {res.url}"
                )
            else:
                passed += 1
                print(f"PASS {module}: {one_line(res.details)}")
    print(f"tests with a failure: {', '.join(failed_tests) or 'none'}")
    if tolerated:
        print(f"known failures (--known {' '.join(known)}): {tolerated}")
    print(f"iiif-validator-ng: {passed} passed, {failed} failed")
    return 1 if failed else 0


def run_all_angles(server: TargetServer, on_black: bool) -> int:
    reference = get_expected_image()
    bad = []
    for rot in range(1, 360):
        if rot % 90 == 0:
            continue
        expected = reference.rotate(rot).extract_area(300, 300, 300, 300)
        if on_black:
            # The PNG (transparent outside the rotated picture) flattened onto black, the
            # background libvips' rotate fills in: how the check would fare with a black one.
            actual = get_image(server, ImageAPIRequest.of(rotation=str(rot), format="png"))
            if actual.hasalpha():
                actual = actual.flatten(background=[0, 0, 0])
        else:
            actual = get_image(server, ImageAPIRequest.of(rotation=str(rot)))
        diff = (actual.extract_area(300, 300, 300, 300) - expected).abs().avg()
        verdict = "PASS" if diff < 6 else "FAIL"
        if diff >= 6:
            bad.append(rot)
        print(
            f"{verdict} rotation {rot}: mean difference {diff:.2f} "
            f"(ours {actual.width}x{actual.height}, libvips "
            f"{reference.rotate(rot).width}x{reference.rotate(rot).height})"
        )
    print(f"angles failing rot_full_non90's check: {' '.join(map(str, bad)) or 'none'}")
    print(f"rot_full_non90 at every angle: {356 - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("--v2", action="store_true")
    p.add_argument("--id", default="67352ccc-d1b0-11e1-89ae-279075081939")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--known", action="append", default=[], metavar="MODULE[:TEXT]")
    p.add_argument("--all-angles", action="store_true")
    p.add_argument("--on-black", action="store_true", help="with --all-angles: PNG on black")
    args = p.parse_args()
    server = TargetServer(
        args.base_url.rstrip("/"),
        validation_id=args.id,
        version=IIIFVersion.V2 if args.v2 else IIIFVersion.V3,
    )
    if args.all_angles:
        return run_all_angles(server, args.on_black)
    return run_suite(server, args.seed, args.known)


if __name__ == "__main__":
    sys.exit(main())
