"""`check`'s proof that an exercise's check rejects the lesson's wrong answers to it.

Each `wrong=` cell runs in place of the exercise cell, then the check cell runs, from the
state the exercise would run in (the reference solutions of the exercises above it). The
session is not run again for each: `Session.trial` forks the cell process at the exercise,
runs the wrong answer and the check in the copy and throws it away, so the solution runs
after it in the session as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograd_tutor.core.lesson import CodeCell, Lesson, WrongAnswer
from autograd_tutor.core.lessonrun import LessonRun
from autograd_tutor.core.results import CellOutcome, LessonProblem


@dataclass
class WrongAnswers:
    """What the wrong answers of one lesson came to: how many its checks rejected, and a
    problem for each one that was not rejected."""

    lesson: Lesson
    timeout: float
    rejected: int = 0
    problems: list[LessonProblem] = field(default_factory=list)

    def try_all(self, run: LessonRun, starter: CodeCell) -> None:
        """`run_lesson`'s `before_exercise`: try this exercise's wrong answers now."""
        exercise = self.lesson.exercise(str(starter.exercise))
        if exercise is None:
            return
        for answer in exercise.wrong:
            steps = [(answer.source, answer.line), (exercise.check.source, exercise.check.line)]
            outcomes = run.ensure_session().trial(
                steps, filename=str(self.lesson.path), timeout=self.timeout
            )
            problem = self.judge(answer, outcomes)
            if problem is None:
                self.rejected += 1
            else:
                self.problems.append(problem)

    def judge(self, answer: WrongAnswer, outcomes: list[CellOutcome]) -> LessonProblem | None:
        """None when the check rejected the answer: the answer ran, the check raised."""
        name = answer.exercise
        ran = outcomes[0]
        if ran.status != "ok":
            line = (ran.error.line if ran.error else None) or answer.line
            return LessonProblem(
                self.lesson.path,
                line,
                f"wrong answer to exercise {name!r} {before_check(ran)}",
            )
        checked = outcomes[1] if len(outcomes) > 1 else None
        if checked is not None and checked.status == "ok":
            return LessonProblem(
                self.lesson.path, answer.line, f"wrong answer to exercise {name!r} passes its check"
            )
        if checked is None or checked.status != "error":
            what = f"ended with {checked.status}" if checked else "did not run"
            return LessonProblem(
                self.lesson.path,
                answer.line,
                f"the check of exercise {name!r} {what} on this wrong answer: "
                "it must end with an error",
            )
        return None


def before_check(outcome: CellOutcome) -> str:
    error = outcome.error
    if outcome.status == "error" and error is not None:
        first = error.message.splitlines()[0] if error.message else ""
        return f"raises before its check runs: {error.type}: {first}".rstrip(": ")
    cause = f" ({outcome.cause})" if outcome.cause else ""
    return f"ended with {outcome.status}{cause} before its check ran"
