"""core/zhstyle.py: each Chinese style rule, its exceptions, and the shipped lessons clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_tutor.core import zhstyle
from autograd_tutor.core.library import shipped_lessons
from autograd_tutor.core.zhstyle import (
    Term,
    glossary_for,
    lesson_problems,
    load_glossary,
    text_problems,
)

GLOSSARY = [
    Term("叶子节点", "leaf", ("叶子张量", "叶子")),
    Term("向量-雅可比积", "vector-Jacobian product"),
    Term("雅可比矩阵", "Jacobian", ("雅可比",)),
]


def problems(text: str) -> list[str]:
    return text_problems(text, GLOSSARY)


# punctuation


@pytest.mark.parametrize(
    ("text", "found", "wanted"),
    [
        ("它为 `True` 时,PyTorch 会记录", ",", "，"),
        ("规则很简单:一个输入", ":", "："),
        ("先猜一猜;再运行", ";", "；"),
        ("这个结果需要梯度吗?", "?", "？"),
        ("不要这样做!", "!", "！"),
        ("数据(输入、标签)都是", "(", "（"),
        ("数据(输入、标签)都是", ")", "）"),
        ("比较运算(`bool`)和下标", ")", "）"),
        ('表示"原地修改"的意思', '"', "“"),
        ('表示"原地修改"的意思', '"', "”"),
        ("它不会被填充.", ".", "。"),
        ("`z` 是 `[4, 10, 18]`,`loss` 是 `32`", ",", "，"),
        ("*element 0 of tensors does not require grad*:`backward()` 失败了", ":", "："),
        ("看错误信息（故意的）:*only Tensors of floating point*（只有浮点）", ":", "："),
        ("会被标记为*推理张量*(inference tensor)", "(", "（"),  # emphasis is markup
        ("图里的**保存张量**(saved tensors)：每个", ")", "）"),
    ],
)
def test_ascii_punctuation_in_chinese_text(text: str, found: str, wanted: str) -> None:
    assert f"{found!r}: use {wanted!r} in Chinese text" in problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "它为 `True` 时，PyTorch 会记录。",  # already full width
        "调用 `x.add_(1, 2)` 或 `f(a, b): 1` 都行。",  # inline code
        "形状是 (4, 1)：每行一个数。",  # math, spaced apart from the Chinese
        "乘以 (1 − 2·lr)，lr > 1 时就发散。",  # math before a full-width comma
        "导数是 f(x) 在 x = 1.5 处的值。",  # a call, a decimal point
        "用 retain_grad() 保留梯度。",  # an empty pair
        "见 [文档](https://pytorch.org/docs/stable/autograd.html)。",  # a link target
        "网址 https://example.com/a,b:c 不算。",  # a URL
        "公式 $f(x, y): z$ 是数学。",  # math
        "English only, (not Chinese): fine.",
    ],
)
def test_no_punctuation_problem_outside_chinese_sentences(text: str) -> None:
    assert not [p for p in problems(text) if "Chinese text" in p], problems(text)


def test_columns_point_into_the_original() -> None:
    masked = zhstyle.mask("用 `a,b` 算,好")
    assert len(masked) == len("用 `a,b` 算,好")
    assert [col for col, *_ in zhstyle.punctuation(masked)] == [9]


# glossary


def test_rejected_variant_is_reported_with_the_glossary_term() -> None:
    assert problems("它是叶子张量。") == ["叶子张量: use 叶子节点 (glossary)"]
    assert problems("只有叶子会得到梯度。") == ["叶子: use 叶子节点 (glossary)"]


def test_a_variant_inside_a_glossary_term_is_fine() -> None:
    assert problems("只有叶子节点和非叶子节点。") == []
    assert problems("这就是向量-雅可比积，不构造雅可比矩阵。") == []


def test_the_longest_variant_is_reported_once() -> None:
    assert problems("非叶子张量") == ["叶子张量: use 叶子节点 (glossary)"]


def test_glossary_terms_in_code_or_quotes_are_not_prose() -> None:
    assert problems("变量 `叶子张量` 和 *leaf tensor here*（叶子节点）") == []


def test_load_glossary(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text("- zh: 梯度\n  en: gradient\n  reject: [斜率]\n", encoding="utf-8")
    assert load_glossary(path) == [Term("梯度", "gradient", ("斜率",))]
    path.write_text("- en: gradient\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_glossary(path)
    path.write_text("- zh: [\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_glossary(path)


def test_a_lesson_folder_may_bring_its_glossary(tmp_path: Path) -> None:
    (tmp_path / "glossary.yaml").write_text("- zh: 梯度\n", encoding="utf-8")
    assert glossary_for(tmp_path) == [Term("梯度", "")]
    assert glossary_for(tmp_path / "elsewhere") == load_glossary(
        shipped_lessons() / "glossary.yaml"
    )


# glosses and verbatim messages


def test_an_english_message_needs_a_chinese_gloss() -> None:
    bare = "报错：*grad can be implicitly created only for scalar outputs*。"
    assert any("without a Chinese gloss" in p for p in problems(bare))
    glossed = "报错：*grad can be implicitly created only for scalar outputs*（只有标量输出才能隐式创建梯度）。"
    assert problems(glossed) == []


def test_a_word_or_two_in_italics_is_not_a_message() -> None:
    assert problems("才是 *element 0* 那个错误，第 *i* 行。") == []


def test_a_verbatim_message_keeps_torch_punctuation() -> None:
    text = "报错 *TypeError: unsupported operand type(s) for \\*： 'float'*（不支持）。"
    assert "'：' inside a verbatim message: quote it as torch prints it" in problems(text)
    fixed = "报错 *TypeError: unsupported operand type(s) for \\*: 'float'*（不支持）。"
    assert problems(fixed) == []


# lessons


def test_lesson_lines_skip_code_but_read_hints_and_front_matter() -> None:
    text = "\n".join(
        [
            "---",
            "title: 叶子张量",
            "id: x",
            "---",
            "",
            "```python",
            "x = 1  # 叶子张量,随便写",
            "```",
            "",
            "```hint",
            "看看叶子张量,好吗",
            "```",
            "",
            "```text",
            "叶子张量,输出",
            "```",
        ]
    )
    found = lesson_problems(text, GLOSSARY)
    assert found == [
        (2, "叶子张量: use 叶子节点 (glossary)"),
        (11, "',': use '，' in Chinese text"),
        (11, "叶子张量: use 叶子节点 (glossary)"),
    ]


def test_shipped_chinese_lessons_are_clean() -> None:
    folder = shipped_lessons()
    glossary = glossary_for(folder)
    found = [
        f"{path.name}:{line}: {msg}"
        for path in sorted(folder.glob("*.zh.md"))
        for line, msg in lesson_problems(path.read_text(encoding="utf-8"), glossary)
    ]
    assert found == []


HEADINGS = {
    "en": ("## Summary", "Next: ", "**What to notice**", "## Exercise: "),
    "zh": ("## 小结", "下一课：", "**注意观察**", "## 练习："),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_lessons_share_headings_and_end_with_summary_and_next(lang: str) -> None:
    summary, next_line, notice, exercise = HEADINGS[lang]
    paths = sorted(shipped_lessons().glob(f"*.{lang}.md"))
    assert len(paths) >= 16, [p.name for p in paths]  # not vacuous: the whole syllabus
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.rstrip().splitlines()
        assert summary in lines, f"{path.name}: no {summary!r}"
        sections = [line for line in lines if line.startswith("## ")]
        assert sections[-1] == summary, f"{path.name}: {sections[-1]!r} after the summary"
        assert lines[-1].startswith(next_line) or lines[-2].startswith(next_line), path.name
        for line in lines:
            if line.startswith("**") and line.endswith("**") and len(line) < 30:
                assert line == notice, f"{path.name}: {line!r}, the heading is {notice!r}"
            if line.startswith(("## Exercise", "## 练习")):
                assert line.startswith(exercise), f"{path.name}: {line!r}"


# Curriculum III: accepted synonyms, marks beside code, mixed brackets, comments in code


def test_an_accepted_synonym_is_masked_like_the_term() -> None:
    glossary = [Term("叶子节点", "leaf", ("叶子",), ("叶子张量",))]
    assert text_problems("它是叶子张量，也是叶子节点。", glossary) == []
    assert text_problems("只有叶子会得到梯度。", glossary) == ["叶子: use 叶子节点 (glossary)"]


def test_load_glossary_reads_accepted_synonyms(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text(
        "- zh: 黑塞矩阵\n  en: Hessian\n  accept: [海森矩阵]\n  reject: [海森阵]\n",
        encoding="utf-8",
    )
    assert load_glossary(path) == [Term("黑塞矩阵", "Hessian", ("海森阵",), ("海森矩阵",))]
    path.write_text("- zh: 梯度\n  accept: 斜率\n", encoding="utf-8")
    with pytest.raises(ValueError, match="accept"):
        load_glossary(path)


def test_the_shipped_glossary_has_the_curriculum_terms() -> None:
    terms = {t.zh: t for t in load_glossary(shipped_lessons() / "glossary.yaml")}
    assert terms["自动微分"].en == "autograd"
    assert "叶子张量" in terms["叶子节点"].accept
    assert "截断" in terms["分离"].reject
    assert "海森矩阵" in terms["黑塞矩阵"].accept and "海森矩阵" not in terms
    assert "为反向传播保存的张量" in terms["保存的张量"].accept
    assert {"评估模式", "训练模式"} <= set(terms)


@pytest.mark.parametrize(
    ("text", "found", "wanted"),
    [
        ("* `a`, `b` 和 `c` 都是叶子节点。", ",", "，"),  # lesson 04: write `a`、`b` 和 `c`
        ("`x.sum()`;`x.mean()` 也一样。", ";", "；"),
        ("会填写 `.grad`,dtype 与叶子节点相同。", ",", "，"),
        ("报错（只能修改 requires_grad)。", ")", "）"),  # lesson 03: one half full width
        ("也可以 (比如 `x`）这样写。", "(", "（"),
    ],
)
def test_marks_beside_code_and_mixed_brackets(text: str, found: str, wanted: str) -> None:
    assert f"{found!r}: use {wanted!r} in Chinese text" in problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "Call `f`, then `g`: English only.",  # no Chinese in the line
        "调用 `f(a, b)` 或 `g(x; y)` 就行。",  # inside inline code
        "（见 `f(x)`）和 (4, 1) 的形状。",  # pairs of one kind each
    ],
)
def test_marks_beside_code_that_are_fine(text: str) -> None:
    assert not [p for p in problems(text) if "Chinese text" in p], problems(text)


def test_the_same_code_rule_ignores_comments_only() -> None:
    from autograd_tutor.core.lesson import code_without_comments as code

    assert code("x = 1  # 叶子节点\n# 注释\ny = x") == code("x = 1  # a leaf\ny = x")
    assert code("s = '# not a comment'") != code("s = '# 不是注释'")
    assert code("x = 1") != code("x = 2  # x = 1")
