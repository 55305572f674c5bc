"""What understanding an answer by voice costs beside reading it from the keypad.

The anchor is `answer_from_keypad` over the same questions, measured in the same run; the figure printed
is the ratio of `callback.speech.understand` per answer to it. Both run inside one webhook request, whose
own cost (database, locking, rendering) is far larger, so any ratio up to a few hundred is harmless.

    .venv/bin/python bench/bench_speech.py [--rounds 2000]
"""

import argparse
import time
from datetime import date

from callback.speech import NotUnderstood, understand
from callback.survey import QUESTIONS_BY_CODE, answer_from_keypad

TODAY = date(2026, 11, 27)
# (question, keys, words): one everyday answer per question, and a few the IVR must refuse.
CASES = [
    ("is_applicant", "1", "嗯嗯，是我"),
    ("applied_on", "1105", "十一月五号交的资料"),
    ("progress", "2", "勘察过了，还没施工"),
    ("connected_on", "1120", "上个月二十号"),
    ("meter_notified", "2", "没人通知"),
    ("trips", "3#", "跑了三趟"),
    ("extra_documents", "2", "只要了身份证"),
    ("fee_requested", "2", "没收钱"),
    ("integrity", "2", "没有没有"),
    ("satisfaction", "1", "非常不满意"),
    ("trips", "9#", "好几趟吧"),
    ("applied_on", "1399", "不记得了"),
]


def per_answer(function, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for code, keys, words in CASES:
            function(QUESTIONS_BY_CODE[code], keys, words)
    return (time.perf_counter() - started) / (rounds * len(CASES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    results = [understand(QUESTIONS_BY_CODE[code], words, TODAY) for code, _, words in CASES]
    understood = sum(not isinstance(result, NotUnderstood) for result in results)
    keypad = per_answer(lambda question, keys, _: answer_from_keypad(question, keys, TODAY), rounds)
    speech = per_answer(lambda question, _, words: understand(question, words, TODAY), rounds)
    print(f"answers: {len(CASES)} phrasings, {understood} understood, {len(CASES) - understood} refused")
    print(f"keypad (anchor): {keypad * 1e6:.1f} µs per answer")
    print(f"speech: {speech * 1e6:.1f} µs per answer")
    print(f"speech / keypad time ratio: {speech / keypad:.1f}")


if __name__ == "__main__":
    main()
