"""`onrust ask`, `onrust chat` and `onrust eval`: the answer pipeline from the command line.

The services (vector store, database) are imported by the handlers, not here: `onrust --help` reads this
module to list the commands and must not wait for them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot import prompts
from bot.core.answering import EVERYONE, PUBLIC
from bot.core.followup import context_of
from bot.core.omo_request import asks_for_omo
from bot.core.ports import THREAD_QUESTIONS

if TYPE_CHECKING:
    from bot.commands import Subcommands
    from bot.config import Settings
    from bot.core.evaluation import EvalSummary
    from bot.core.json_types import JsonObject
    from bot.core.models import Answer
    from bot.services import Services

__all__ = ["answer_json", "register"]


def register(sub: Subcommands) -> None:
    ask = sub.add_parser(
        "ask",
        help="answer one question and print it as a user would see it",
        description="Answer one Dutch question from the knowledge base, with numbered sources.",
    )
    ask.add_argument("question", help='the question, e.g. "Wat is de MIA?"')
    ask.add_argument("--json", action="store_true", help="print the answer, citations and retrieved documents as JSON")
    ask.add_argument("--omo", action="store_true", help="ask as the OMO team (also sees omo-intern documents)")
    ask.set_defaults(handler=run_ask, terminal=True, quick_exit=True)  # reads only; closes all

    chat = sub.add_parser(
        "chat",
        help="an interactive conversation in the terminal",
        description="Ask questions one after another; a follow-up question ('En hoe lang mag dat dan?') is "
        "understood with the question it follows up (and the follow-ups since), an unrelated question is judged "
        "on its own. !help explains; end with an empty line, Ctrl-D or Ctrl-C. Log lines appear only with -v.",
    )
    chat.add_argument("--omo", action="store_true", help="chat as the OMO team")
    chat.set_defaults(handler=run_chat, terminal=True)

    evaluate = sub.add_parser(
        "eval",
        help="measure retrieval, refusal and latency on a questions file",
        description='Run every question of a JSONL file ({"qid", "question", "kind"?, "first"?, "expect_any"?, '
        '"passage_id"?, "relevant_passage_ids"?, "doc_ids"?, "category"?}) through the answer pipeline and report '
        "answers right and refused per kind (answerable, unanswerable, followup, followup_offtopic) and per "
        "category, recall@1/5/10 and MRR@10 (strict and lenient) and latency. A follow-up is asked after its "
        "`first` question in the same conversation.",
    )
    evaluate.add_argument("questions", type=Path, help="JSONL questions file")
    evaluate.add_argument("--k", type=int, default=10, help="documents retrieved per question (default 10)")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument("--details", action="store_true", help="also print one line per question")
    evaluate.set_defaults(handler=run_eval)


def answer_json(answer: Answer) -> JsonObject:
    """The `onrust ask --json` shape."""
    return {
        "answer": answer.text,
        "citations": [
            {
                "ref": c.ref,
                "doc_id": c.passage.doc.doc_id,
                "title": c.passage.doc.title,
                "section": c.passage.chunk.section,
                "page": c.passage.chunk.page,
                "url": c.passage.doc.url,
                "text": c.passage.text,
            }
            for c in answer.citations
        ],
        "confident": answer.confident,
        "escalation_offered": answer.escalation_offered,
        "retrieved": list(answer.retrieved),
    }


async def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    question = args.question.strip()
    if not question:
        print(prompts.render("empty_question.nl.j2"), file=sys.stderr)
        return 2
    if len(question) > settings.answer.max_question_chars:
        limit = settings.answer.max_question_chars
        print(prompts.render("too_long.nl.j2", length=len(question), limit=limit), file=sys.stderr)
        return 2
    if asks_for_omo(question) and not args.json:
        print(prompts.render("omo_terminal.nl.j2"))
        return 0
    from bot.services import build_answerer, open_services

    async with open_services(settings) as services:
        if not await _has_knowledge(services, settings):
            return 1
        answerer = build_answerer(services)
        answer = await answerer.answer(question, access=EVERYONE if args.omo else PUBLIC)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        print(prompts.render("answer.nl.j2", answer=answer, terminal=True))
    return 0


async def _has_knowledge(services: Services, settings: Settings) -> bool:
    """False (with the operator told why on stderr) when the data dir holds no ingested documents."""
    if await asyncio.to_thread(services.store.count):
        return True
    print(
        f"error: no knowledge base in {settings.data_dir}: run `onrust --data-dir {settings.data_dir} ingest "
        "knowledge/` first (or point --data-dir at an ingested one)",
        file=sys.stderr,
    )
    return False


async def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    """The terminal conversation; a follow-up is understood as in a thread (see `context_of`)."""
    from bot.services import build_answerer, open_services

    async with open_services(settings) as services:
        if not await _has_knowledge(services, settings):
            return 1
        answerer = build_answerer(services)
        print(prompts.render("chat_welcome.nl.j2"))
        asked: list[str] = []  # the questions so far, as a thread holds them
        while True:
            try:
                # stdin is read in this thread: Ctrl-C interrupts input() at once, where a worker thread would hang.
                line = input("> ")  # noqa: ASYNC250 - nothing else runs on this loop while the user types
            except (EOFError, KeyboardInterrupt):
                print()
                break
            question = line.strip()
            if not question:
                break
            if question.lower() in ("!help", "help", "?"):
                print(prompts.render("chat_help.nl.j2"), end="\n\n")
                continue
            if asks_for_omo(question) or question.lower() == "!omo":
                print(prompts.render("omo_terminal.nl.j2"), end="\n\n")
                continue
            if len(question) > settings.answer.max_question_chars:
                print(prompts.render("too_long.nl.j2", length=len(question), limit=settings.answer.max_question_chars))
                continue
            context = context_of(asked)
            answer = await answerer.answer(question, access=EVERYONE if args.omo else PUBLIC, context=context)
            print(prompts.render("answer.nl.j2", answer=answer, terminal=True), end="\n\n")
            asked = [*asked[1 - THREAD_QUESTIONS :], question]
    return 0


async def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from bot.core.evaluation import EvalResult, Scoreboard, is_right, load_questions
    from bot.services import build_answerer, open_services

    questions = load_questions(args.questions)
    settings = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"top_k": max(args.k, 10)})}
    )
    board = Scoreboard(k=args.k)
    async with open_services(settings) as services:
        answerer = build_answerer(services)
        for q in tqdm(questions, unit="vraag", disable=not sys.stderr.isatty(), leave=False):
            if q.first:
                await answerer.answer(q.first)
            started = time.perf_counter()
            answer = await answerer.answer(q.question, context=q.first)
            latency = (time.perf_counter() - started) * 1000
            right = is_right(q, answer)
            board.add(EvalResult(q, answer.retrieved, not answer.confident, latency, right))
            if args.details:
                verdict = "right" if right else ("REFUSED" if not answer.confident else "WRONG")
                print(f"{q.qid}\t{q.kind}\t{verdict}\t{'; '.join(answer.notes)}\t{q.question}")
    summary = board.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        print(_format_summary(summary))
    return 0


def _format_summary(s: EvalSummary) -> str:
    """One table: answers right and refused per kind and category, then recall and latency."""
    lines = [f"{'':20} {'n':>4} {'right':>6} {'refused':>8}"]
    for kind, row in s["kinds"].items():
        lines.append(f"{kind:20} {row['n']:>4} {row['right']:>6} {row['refused']:>8}")
    for category, row in s["categories"].items():
        lines.append(f"{'  ' + category:20} {row['n']:>4} {'':>6} {row['refused']:>8}")

    def recall(name: str, m: dict[str, float]) -> str:
        return (
            f"{name:8} R@1 {m['recall@1']:.3f}  R@5 {m['recall@5']:.3f}  "
            f"R@10 {m['recall@10']:.3f}  MRR@10 {m['mrr@10']:.3f}"
        )

    lines += [
        recall("strict", s["strict"]),
        recall("lenient", s["lenient"]),
        f"latency ms: p50 {s['latency_ms']['p50']}  p95 {s['latency_ms']['p95']}",
    ]
    return "\n".join(lines)
