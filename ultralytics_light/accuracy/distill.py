"""`bench-accuracy`'s distilled rows: lite models trained again with `distill_model=` a teacher fine-tuned on the data.

The teacher is one of the benchmark's own runs (fine-tuned once, under the recipe, on the user's train split) and every
student reuses its best.pt. `teacher=auto` picks the best reference that did not start from scratch (a COCO-pretrained
release, or a stock checkpoint the user gave): what a user would otherwise deploy. Ultralytics' own distillation
(8.4 and newer) does the training; nothing here changes its loss.
"""

from __future__ import annotations

from pathlib import Path

from ultralytics_light.accuracy.plan import Run, Variant, run_folder
from ultralytics_light.accuracy.run import Result

AUTO = "auto"
NONE = ("", "none", "false")
# `yolo train` arguments that only a distilled run uses: the other runs neither take nor record them, so trying another
# setting trains the distilled rows again (in folders named after it) and reads every other run back
SETTINGS = ("dis",)


def without_settings(recipe: dict) -> dict:
    """The recipe of a run that distils from nothing: `recipe` less the distillation settings."""
    return {key: value for key, value in recipe.items() if key not in SETTINGS}


def available() -> bool:
    """Whether this Ultralytics release trains with `distill_model=` (8.4 and newer)."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return "distill_model" in DEFAULT_CFG_DICT


def parse_teachers(option: object) -> list[str]:
    """`teacher=` as a list: [] for none, ['auto'], or the models named (comma-separated)."""
    text = str(option).strip()
    return [] if text.lower() in NONE else [name.strip() for name in text.split(",") if name.strip()]


def matches(name: str, variant: Variant) -> bool:
    """Whether `teacher=NAME` (or `students=NAME`) names this variant: its model, its name, or its label."""
    return name in (variant.model, variant.name, variant.label) or Path(name).stem == variant.name


def pick_teachers(asked: list[str], results: list[Result]) -> list[Result]:
    """The finished runs to distil from (their first seed's), in the order asked; `auto`: the reference with the best
    mean mAP50-95 among those that did not start from scratch, or none (said so) where there is no such reference."""
    firsts = {}
    for result in results:
        if not result.run.variant.scratch_twin and not result.run.variant.teacher:
            firsts.setdefault(result.run.variant, result)
    picked = []
    for name in asked:
        if name != AUTO:
            picked += [result for variant, result in firsts.items() if matches(name, variant)][:1]
            continue
        started = [v for v in firsts if v.reference and not v.init.startswith("scratch")]
        if not started:
            print("teacher=auto: no reference here that was fine-tuned from COCO or a checkpoint, so no distilled rows")
            continue

        def mean(variant: Variant) -> float:
            scores = [r.map50_95 for r in results if r.run.variant == variant]
            return sum(scores) / len(scores)

        best = max(started, key=mean)
        print(f"teacher=auto: {best.label}, the best fine-tuned reference (mAP50-95 {mean(best):.3f})")
        picked.append(firsts[best])
    return list(dict.fromkeys(picked))


def students(variants: list[Variant], asked: list[str] | None) -> list[Variant]:
    """The variants that learn from a teacher: those named in `students=`, by default every lite model of ours."""
    plain = [v for v in variants if not v.scratch_twin and not v.reference and not v.teacher]
    if asked is None:
        return [v for v in plain if "-lite-" in v.name]
    return [v for v in plain if any(matches(name, v) for name in asked)]


def distilled_runs(teachers: list[Result], learners: list[Variant], seeds: list[int], project: Path,
                   recipe: dict) -> list[Run]:  # fmt: skip
    """Every student at every seed, once per teacher (never a model distilling from itself), under the distillation
    settings the recipe passes (named in their labels and folders)."""
    settings = tuple((key, recipe[key]) for key in SETTINGS if key in recipe)
    runs = []
    for teacher in teachers:
        for student in learners:
            if student == teacher.run.variant:
                continue
            variant = Variant(
                student.model,
                student.name,
                student.init,
                student.pretrained,
                teacher=teacher.run.variant.label,
                distill_args=settings,
            )
            runs += [Run(variant, seed, run_folder(project, variant.slug, seed), teacher.best) for seed in seeds]
    return runs
