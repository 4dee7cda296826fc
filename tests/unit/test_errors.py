"""The error hierarchy renders what failed, why and the fix, and keeps each error's facts."""

from __future__ import annotations

from linstor_core import retcodes
from linstor_core.errors import (
    ApiError, ApiReply, ControllerUnreachable, InUse, InvalidInput, LinstorError, NotFound,
    StorageError,
)


def test_invalid_input_names_field_value_and_reason() -> None:
    error = InvalidInput("size", "-1", "must be positive", correction="use e.g. 10G")
    assert error.field == "size" and error.value == "-1"
    assert str(error) == "invalid size '-1': must be positive; correction: use e.g. 10G"


def test_rendering_skips_a_cause_the_message_already_says() -> None:
    assert str(LinstorError("disk x: busy", cause="busy")) == "disk x: busy"
    assert str(LinstorError("disk x", cause="busy")) == "disk x; cause: busy"
    assert LinstorError("disk x: busy", cause="busy").new_cause == ""


def test_invalid_input_shortens_huge_values() -> None:
    error = InvalidInput("name", "x" * 500, "too long")
    assert len(error.message) < 120


def test_api_error_takes_first_error_reply_over_info_replies() -> None:
    info = ApiReply(ret_code=retcodes.CREATED, message="created")
    failure = ApiReply(ret_code=retcodes.FAIL_NOT_FOUND_RSC_DFN, message="Resource definition 'x' not found.",
                       cause="no such thing", correction="create it first")
    error = NotFound([info, failure], status=404)
    assert isinstance(error, ApiError) and isinstance(error, LinstorError)
    assert error.message == "Resource definition 'x' not found."
    assert error.correction == "create it first" and error.status == 404
    assert error.replies == [info, failure]


def test_api_reply_json_round_trip_omits_empty_fields() -> None:
    reply = ApiReply(ret_code=retcodes.FAIL_IN_USE, message="in use", cause="snapshots")
    body = reply.to_json()
    assert body == {"ret_code": retcodes.FAIL_IN_USE, "message": "in use", "cause": "snapshots"}
    assert ApiReply.from_json(body) == reply
    assert reply.is_error and not ApiReply(ret_code=retcodes.CREATED, message="ok").is_error


def test_in_use_is_an_api_error() -> None:
    assert issubclass(InUse, ApiError)


def test_controller_unreachable_lists_every_url() -> None:
    error = ControllerUnreachable([("http://a:3370", "connection refused"), ("http://b:3370", "timeout")])
    assert "http://a:3370 (connection refused)" in str(error)
    assert "http://b:3370 (timeout)" in str(error)
    assert error.correction


def test_storage_error_keeps_argv_code_and_the_whole_stderr() -> None:
    error = StorageError(["losetup", "-f"], 1, "warning\nlosetup: cannot find an unused loop device\n")
    assert error.argv == ["losetup", "-f"] and error.returncode == 1
    assert "warning / losetup: cannot find an unused loop device" in error.message


def test_storage_error_keeps_a_first_line_reason_and_shortens_long_output() -> None:
    stderr = "agsize (1 blocks) too small, need at least 4096 blocks\n" + "usage: mkfs.xfs ...\n" * 100
    error = StorageError(["mkfs.xfs", "/dev/loop0"], 1, stderr)
    assert "too small" in error.message and len(error.message) < 400


def test_the_controllers_error_reports_are_named_in_the_correction() -> None:
    reply = ApiReply.from_json({"ret_code": -4611686018427387904 | 1, "message": "Internal error",
                                "correction": "Contact support.", "error_report_ids": ["5F2A-000001"]})
    assert reply.error_report_ids == ("5F2A-000001",) and reply.to_json()["error_report_ids"] == ["5F2A-000001"]
    error = ApiError([reply])
    assert error.correction == "Contact support; details: linstor error-reports show 5F2A-000001"
