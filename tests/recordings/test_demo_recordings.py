"""seed-demo gives the demo's cases recordings to play, at any hour."""

from pathlib import Path

from sqlalchemy import select

from callback.extensions import db
from callback.models import CallRecording, CaseEvidence
from callback.recordings.audio import inspect_audio


def test_the_demo_cases_have_playable_recordings(app, runner, signed_in):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    recordings = db.session.scalars(select(CallRecording)).all()
    assert recordings and all(r.status == "stored" for r in recordings)
    audio = Path(app.config["RECORDINGS_PATH"], recordings[0].path).read_bytes()
    assert inspect_audio(audio).channels == 2
    evidence = db.session.scalars(
        select(CaseEvidence).where(CaseEvidence.attempt_id == recordings[0].attempt_id)
    ).first()
    supervisor, _ = signed_in("supervisor", "demo-viewer")
    page = supervisor.get(f"/cases/{evidence.case_id}").get_data(as_text=True)
    assert f"/recordings/{recordings[0].id}/audio" in page
