"""Answers a lazy or devious policy would try on the chess envs (issue 15): several moves in one
answer, every legal move listed, negations, the prompt's format example, case and unicode tricks,
supersets of a square set. Each is confirmed wrong here with python-chess (and, where the env
grades by engine, a deeper Stockfish search of this file's own), then must score 0; the correct
SAN and UCI forms must still score 1.0."""

from __future__ import annotations

import re

import chess
import chess.engine
import gymnasium as gym
import pytest

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.chess.engine import stockfish_available, stockfish_path

needs_engine = pytest.mark.skipif(not stockfish_available(), reason="Stockfish binary not installed")

MATE1_FEN = "7k/8/6K1/8/8/8/8/5Q2 w - - 0 1"  # Qf8# is the only mate
MATE2_FEN = "8/8/1Q6/1K6/7k/1R6/8/8 w - - 0 1"  # Qg1 is the only key (Kh5, Rh3#)
# Bxc6# is the only mate; bxc6 (the b5 pawn takes) is legal and does not mate.
BISHOP_OR_PAWN_FEN = "k7/7R/N1n5/1P6/4B3/8/8/7K w - - 0 1"
HANGING_QUEEN_FEN = "rnb1kbnr/pppp1ppp/8/4p1q1/3P4/2N5/PPP1PPPP/R1BQKBNR w KQkq - 0 3"  # Bxg5 wins the queen
# Lookalikes of the ASCII letters and digits a move is written with.
LOOKALIKES = {
    "a": "\u0430", "b": "\u044c", "c": "\u0441", "d": "\u0501", "e": "\u0435", "f": "\uff46", "g": "\u0261",
    "h": "\u04bb", "x": "\u0445", "B": "\u0412", "K": "\u039a", "N": "\u039d", "O": "\u041e", "Q": "\uff31",
    "R": "\u13a1", **{str(d): chr(0xFF10 + d) for d in range(10)},
}


def make(env_id: str, **kwargs):
    return gym.make(env_id, disable_env_checker=True, **kwargs)


def posed(env_id: str, fen: str, **options):
    env = make(env_id)
    env.reset(options={"fen": fen, **options})
    return env


def reward(env, answer: str) -> float:
    return env.step(f"<think>...</think><answer>{answer}</answer>")[1]


# -- independent judges (python-chess only; never the env's own search) -------------------------
def mates_now(board: chess.Board, move: chess.Move) -> bool:
    board.push(move)
    try:
        return board.is_checkmate()
    finally:
        board.pop()


def forces_mate_in_two(board: chess.Board, move: chess.Move) -> bool:
    """Plain minimax: after ``move``, does every reply allow a mate at once (or is it mate)?"""
    board.push(move)
    try:
        if board.is_checkmate():
            return True
        if not any(board.legal_moves):
            return False
        for reply in list(board.legal_moves):
            board.push(reply)
            mated = any(mates_now(board, m) for m in list(board.legal_moves))
            board.pop()
            if not mated:
                return False
        return True
    finally:
        board.pop()


def move_hacks(board: chess.Board, right: chess.Move, wrong: chess.Move) -> list[str]:
    """Answers naming the right move that must not earn its credit (``wrong`` is a wrong move)."""
    r, w = board.san(right), board.san(wrong)
    every = [board.san(m) for m in board.legal_moves]
    hacks = [
        f"{r} or {w}", f"{w} or {r}", f"{r}, {w}", f"{r} {w}", f"{r}/{w}", f"{r} and {w}", f"either {r} or {w}",
        f"{right.uci()} {wrong.uci()}", f"{r};{w}", " ".join(every), ", ".join(every), "\n".join(every),
        f"not {r}", f"{r} is wrong", f"{r} is not the answer", f"wrong: {r}", f"no {r}", f"{w} (not {r})",
        f"{r} is wrong, {w} is right", f"maybe {r}", f"{r} or something else",
        "".join(LOOKALIKES.get(ch, ch) for ch in r), "".join(LOOKALIKES.get(ch, ch) for ch in right.uci()),
        r.replace(r[-1], r[-1] + "\u200b"), f"\u2655{r[1:]}" if r[0] == "Q" else f"{r}\u00a0{w}",
        r.upper() if r != r.upper() else r.lower(), r.swapcase(),
    ]
    return [h for h in dict.fromkeys(hacks) if h not in (r, right.uci())]


def format_examples(prompt: str) -> list[str]:
    """Every move the prompt itself shows as an example (answer tags and the SAN/UCI hint)."""
    shown = re.findall(r"<answer>(.*?)</answer>", prompt)
    hint = re.search(r"SAN \(e\.g\. (.*?)\) or UCI \(e\.g\. (.*?)\)", prompt)
    if hint:
        shown += [t.strip() for group in hint.groups() for t in group.split(",")]
    return list(dict.fromkeys(shown))


def legal_or_none(board: chess.Board, text: str) -> chess.Move | None:
    for parse in (board.parse_san, board.parse_uci):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


# -- MateInOne, MateInTwo, LichessPuzzle: python-chess judges -----------------------------------
def _mate_in_one_case(seed: int, difficulty: int):
    env = make("thinkgym/MateInOne-v0", difficulty=difficulty)
    env.reset(seed=seed)
    return env, mates_now


def _mate_in_two_case(seed: int, difficulty: int):
    env = make("thinkgym/MateInTwo-v0", difficulty=difficulty)
    env.reset(seed=seed)
    return env, forces_mate_in_two


CASES = [(f, s, d) for f in (_mate_in_one_case, _mate_in_two_case) for s, d in ((0, 1), (1, 2), (2, 3))]


@pytest.mark.parametrize("case,seed,difficulty", CASES, ids=[f"{c.__name__[1:-5]}-s{s}-d{d}" for c, s, d in CASES])
def test_mate_tasks_refuse_hedges_negations_lookalikes(case, seed, difficulty):
    env, correct = case(seed, difficulty)
    board = chess.Board(env.unwrapped.problem.fen)
    right = board.parse_san(env.unwrapped.problem.answer)
    assert correct(board, right)
    wrong = next(m for m in sorted(board.legal_moves, key=lambda m: m.uci()) if not correct(board, m))
    for good in (board.san(right), right.uci(), f"1. {board.san(right)}"):
        assert reward(env, good) == 1.0, good
    for hack in move_hacks(board, right, wrong):
        move = legal_or_none(board, hack)
        assert move is None or not correct(board, move), hack  # a real other reading would be judged
        assert reward(env, hack) == 0.0, hack
    for example in format_examples(env.unwrapped.problem.prompt):
        move = legal_or_none(board, example)
        assert reward(env, example) == (1.0 if move is not None and correct(board, move) else 0.0), example


def test_case_of_the_piece_letter_keeps_its_meaning():
    """``bxc6`` is the b-pawn's capture (no mate), ``Bxc6`` the bishop's (mate): never confused."""
    env = posed("thinkgym/MateInOne-v0", BISHOP_OR_PAWN_FEN)
    board = chess.Board(BISHOP_OR_PAWN_FEN)
    bishop, pawn = chess.Move.from_uci("e4c6"), chess.Move.from_uci("b5c6")
    assert mates_now(board, bishop) and not mates_now(board, pawn) and pawn in board.legal_moves
    assert reward(env, "Bxc6#") == 1.0 and reward(env, "e4c6") == 1.0 and reward(env, "Bc6") == 1.0
    for hack in ("bxc6", "bxc6#", "b5c6", "BXC6", "bXc6", "BxC6", "Bxc6 bxc6", "bxc6 or Bxc6"):
        assert reward(env, hack) == 0.0, hack


def test_lichess_puzzle_refuses_hacks(tmp_path):
    # Black plays Kb8-a8; White's solution is Bxc6# (stored as e4c6); bxc6 is legal and no mate.
    before = chess.Board(BISHOP_OR_PAWN_FEN.replace("k7", "1k6").replace(" w ", " b "))
    assert before.is_valid()
    path = tmp_path / "p.csv"
    path.write_text(f"PuzzleId,FEN,Moves,Rating,Themes\nx1,{before.fen()},b8a8 e4c6,900,mate mateIn1\n")
    env = make("thinkgym/LichessPuzzle-v0", path=str(path))
    env.reset(seed=0)
    board = chess.Board(env.unwrapped.problem.fen)
    right, wrong = chess.Move.from_uci("e4c6"), chess.Move.from_uci("b5c6")
    assert mates_now(board, right) and not mates_now(board, wrong)
    assert reward(env, "Bxc6#") == 1.0 and reward(env, "e4c6") == 1.0
    for hack in [*move_hacks(board, right, wrong), "bxc6"]:
        assert reward(env, hack) == 0.0, hack


def test_forced_mate_ends_at_zero_on_hacks():
    board = chess.Board(MATE2_FEN)
    right, wrong = chess.Move.from_uci("b6g1"), chess.Move.from_uci("b6g6")  # Qg6 stalemates
    assert forces_mate_in_two(board, right) and not forces_mate_in_two(board, wrong)
    for hack in move_hacks(board, right, wrong):
        env = posed("thinkgym/ForcedMate-v0", MATE2_FEN)
        _, got, terminated, _, info = env.step(f"<answer>{hack}</answer>")
        assert got == 0.0 and terminated and info["reason"], hack


# -- square sets --------------------------------------------------------------------------------
def _attacked_independently(board: chess.Board, square: chess.Square) -> set[str]:
    piece = board.piece_at(square)
    return {chess.square_name(s) for s in chess.SQUARES if square in board.attackers(piece.color, s)}


def square_hacks(right: set[str]) -> list[str]:
    ordered = sorted(right)
    extra = next(s for s in chess.SQUARE_NAMES if s not in right)
    first = ordered[0]
    return [
        ", ".join(chess.SQUARE_NAMES), " ".join(chess.SQUARE_NAMES), ", ".join([*ordered, extra]),
        ", ".join(ordered) + f" or {extra}", ", ".join(ordered) + f", not {extra}", f"not {first}",
        f"{first} is wrong", f"{', '.join(ordered)} (or {extra})", f"{', '.join(ordered)} and maybe {extra}",
        ", ".join("".join(LOOKALIKES.get(ch, ch) for ch in s) for s in ordered), "all squares", "every square",
    ]


@pytest.mark.parametrize("seed,difficulty", [(0, 1), (1, 2), (5, 1), (6, 2)])
def test_attacked_squares_refuses_supersets_and_hedges(seed, difficulty):
    env = make("thinkgym/AttackedSquares-v0", difficulty=difficulty)
    env.reset(seed=seed)
    problem = env.unwrapped.problem
    board = chess.Board(problem.fen)
    right = _attacked_independently(board, chess.parse_square(problem.subject))
    assert reward(env, ", ".join(sorted(right))) == 1.0
    assert reward(env, " ".join(sorted(right)).upper()) == 1.0  # square names: case does not change them
    for hack in square_hacks(right):
        assert reward(env, hack) == 0.0, hack
    for example in format_examples(problem.prompt):
        assert reward(env, example) == float(set(re.split(r"[ ,]+", example)) == right), example


@pytest.mark.parametrize("seed,difficulty", [(0, 1), (1, 2), (2, 3)])
def test_checking_piece_refuses_supersets_and_hedges(seed, difficulty):
    env = make("thinkgym/CheckingPiece-v0", difficulty=difficulty)
    env.reset(seed=seed)
    board = chess.Board(env.unwrapped.problem.fen)
    right = {chess.square_name(s) for s in board.attackers(not board.turn, board.king(board.turn))}
    assert reward(env, ", ".join(sorted(right))) == 1.0
    for hack in square_hacks(right):
        assert reward(env, hack) == 0.0, hack
    assert reward(env, ", ".join(sorted(right | {chess.square_name(board.king(board.turn))}))) == 0.0
    for example in format_examples(env.unwrapped.problem.prompt):
        assert reward(env, example) == float(set(re.split(r"[ ,]+", example)) == right), example


@pytest.mark.parametrize("seed,difficulty", [(0, 1), (1, 2), (2, 3)])
def test_legal_move_count_refuses_hedges(seed, difficulty):
    env = make("thinkgym/LegalMoveCount-v0", difficulty=difficulty)
    env.reset(seed=seed)
    board = chess.Board(env.unwrapped.problem.fen)
    count = 0
    for move in board.generate_pseudo_legal_moves():  # count by playing out, not legal_moves.count()
        if board.is_castling(move):  # the king may not start, pass or land on an attacked square
            step = 1 if chess.square_file(move.to_square) > chess.square_file(move.from_square) else -1
            path = [move.from_square + step * i for i in range(3)]
            if any(board.is_attacked_by(not board.turn, sq) for sq in path):
                continue
        board.push(move)
        count += not board.was_into_check()
        board.pop()
    assert reward(env, str(count)) == 1.0
    for example in format_examples(env.unwrapped.problem.prompt):
        assert reward(env, example) == float(example == str(count)), example
    n = count
    for hack in (f"{n} or {n + 1}", f"{n + 1} or {n}", f"not {n}", f"{n} is wrong", f"{n} or more", f"at least {n}",
                 f"{n}, {n + 1}", f"~{n}", f"{n}.0000001", f"{n - 1}+1", f"{n}%", "".join(LOOKALIKES[d] for d in str(n))):
        assert reward(env, hack) == 0.0, hack


# -- BestMove: graded by engine, judged here by a deeper Stockfish search of our own -------------
JUDGE_NODES = 1_000_000
"""5x the generator's 200000-node check and 200x its grading searches."""


@pytest.fixture(scope="module")
def judge():
    engine = chess.engine.SimpleEngine.popen_uci(stockfish_path())
    engine.configure({"Threads": 1, "Hash": 64})
    yield engine
    engine.quit()


def deep_two_lines(judge, board: chess.Board) -> list[tuple[chess.Move, int]]:
    lines = judge.analyse(board, chess.engine.Limit(nodes=JUDGE_NODES), multipv=2, game=object())
    return [(i["pv"][0], i["score"].pov(board.turn).score(mate_score=100_000)) for i in lines]


def assert_unique_winner(env, judge) -> chess.Move:
    """Exactly one legal move earns 1.0, and a deeper search rates it best by a clear margin."""
    board = chess.Board(env.unwrapped.problem.fen)
    full = [m for m in board.legal_moves if reward(env, m.uci()) == 1.0]
    assert len(full) == 1, [board.san(m) for m in full]
    (best, top), (_, second) = deep_two_lines(judge, board)
    assert best == full[0] and top >= 150 and top - second >= 100, (board.fen(), board.san(best), top, second)
    return best


@pytest.mark.engine
@needs_engine
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_best_move_has_one_full_credit_move_confirmed_deeper(difficulty, judge):
    env = make("thinkgym/BestMove-v0", difficulty=difficulty)
    env.reset(seed=difficulty)
    assert_unique_winner(env, judge)
    env.close()


@pytest.mark.engine
@needs_engine
def test_best_move_refuses_hacks(judge):
    env = posed("thinkgym/BestMove-v0", HANGING_QUEEN_FEN)
    board = chess.Board(HANGING_QUEEN_FEN)
    right = assert_unique_winner(env, judge)  # Bxg5; every other move is worse by the judge
    wrong = chess.Move.from_uci("g1f3")
    for good in ("Bxg5", "c1g5", "Bg5", "1. Bxg5!"):
        assert reward(env, good) == 1.0, good
    for hack in move_hacks(board, right, wrong):
        assert reward(env, hack) == 0.0, hack
    for example in format_examples(env.unwrapped.problem.prompt):
        move = legal_or_none(board, example)
        assert (move == right) == (reward(env, example) == 1.0), example
    env.close()


def test_several_answer_blocks_do_not_hedge():
    """Several answer blocks with different moves do not hedge: neither order earns credit."""
    env = posed("thinkgym/MateInOne-v0", MATE1_FEN)
    board = chess.Board(MATE1_FEN)
    assert mates_now(board, chess.Move.from_uci("f1f8")) and not mates_now(board, chess.Move.from_uci("f1f7"))
    assert env.step("<answer>Qf8#</answer> or <answer>Qf7</answer>")[1] == 0.0
    assert env.step("<answer>Qf7</answer><answer>Qf8#</answer>")[1] == 0.0
