"""Pure pieces of running several bot processes: record ids, the stored /thongbao draft."""

from __future__ import annotations

from datetime import UTC, datetime

from broadcasts.draft import Draft
from broadcasts.models import ContentKind
from broadcasts.scope import Scope
from records.repository import RecordIds
from storage.numbers import record_id

START = 1_790_000_000.0  # seconds since the epoch, in 2026


class Clock:
    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]


def parts(value: int) -> tuple[int, int, int]:
    return value >> 22, (value >> 12) & 0x3FF, value & 0xFFF


def test_a_record_id_is_milliseconds_node_and_sequence() -> None:
    ids = RecordIds(node=5, clock=Clock(START))
    first, second = ids.next(), ids.next()
    millis = int(START * 1000) - RecordIds._EPOCH_MS
    assert parts(first) == (millis, 5, 0) and parts(second) == (millis, 5, 1)
    assert 0 < first < second < 2**63 and record_id(str(second)) == second


def test_other_nodes_never_make_the_same_id_in_the_same_millisecond() -> None:
    made = [RecordIds(node=n, clock=Clock(START)).next() for n in range(RecordIds.NODES)]
    assert len(set(made)) == RecordIds.NODES


def test_a_full_millisecond_waits_for_the_next_one() -> None:
    ids = RecordIds(node=1, clock=Clock(*([START] * 4097), START + 0.001))
    made = [ids.next() for _ in range(4097)]
    assert [parts(i)[2] for i in made[-2:]] == [4095, 0]
    assert parts(made[-1])[0] == parts(made[0])[0] + 1 and made == sorted(made)


def test_a_clock_stepping_back_never_repeats_an_id() -> None:
    ids = RecordIds(node=2, clock=Clock(START, *([START - 5] * 5000)))
    made = [ids.next() for _ in range(5000)]
    assert len(set(made)) == 5000 and made == sorted(made)  # still growing: the sequence, then borrowed ms


def test_node_numbers_are_checked() -> None:
    ids = RecordIds()
    for bad in (-1, RecordIds.NODES):
        try:
            ids.node = bad
        except ValueError:
            continue
        raise AssertionError(f"node {bad} was accepted")


def test_the_draft_reads_back_what_was_stored() -> None:
    draft = Draft(
        scope=Scope.tagged(["tinh:ha_noi", "nhan:vung cao"]),
        kind=ContentKind.PHOTO,
        text="<b>Ảnh</b> tập huấn",
        file_id="AgAD-1",
        tags=["tinh:ha_noi", "nhan:vung cao"],
        chosen={1},
        count=3,
        pin=True,
        ack=True,
        scheduled_at=datetime(2026, 12, 25, 1, 0, tzinfo=UTC),
    )
    again = Draft.from_data(draft.to_data())
    assert again == draft and again.chosen_tags() == ["nhan:vung cao"]
    assert Draft.from_data({"scope": {"kind": "everything", "tags": []}}) is None  # an older or broken row
    assert Draft.from_data({**draft.to_data(), "kind": "video"}) is None
