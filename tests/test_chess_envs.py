"""Chess family: mate verification on hand-made positions, move parsing, reset options, the
Lichess loader, the multi-turn mating env, and the Stockfish-backed task with its engine lifecycle."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time

import chess
import chess.engine
import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.chess import engine as engine_mod
from thinkgym.envs.chess.common import parse_move
from thinkgym.envs.chess.engine import Engine, StockfishNotFound, stockfish_available, stockfish_path
from thinkgym.envs.chess.lichess import SAMPLE_PATH, PuzzleFileError, load_puzzles
from thinkgym.envs.chess.mate import forcing_moves
from thinkgym.envs.registry import env_info
from thinkgym.rewards.verdict import InvalidAnswer

# White: Kg6, Qf1; Black: Kh8. Qf8# mates; Qf7 and Qc4 stalemate; Qh1+ checks but Kg8 escapes.
MATE1_FEN = "7k/8/6K1/8/8/8/8/5Q2 w - - 0 1"
# White: Kb5, Qb6, Rb3; Black: Kh4. Only Qg1 forces mate (Kh5 is forced, then Rh3#); Qg6 stalemates.
MATE2_FEN = "8/8/1Q6/1K6/7k/1R6/8/8 w - - 0 1"
START_FEN = chess.STARTING_FEN
# Black's queen on g5 hangs to Bxg5.
HANGING_QUEEN_FEN = "rnb1kbnr/pppp1ppp/8/4p1q1/3P4/2N5/PPP1PPPP/R1BQKBNR w KQkq - 0 3"

needs_engine = pytest.mark.skipif(not stockfish_available(), reason="Stockfish binary not installed")


def make(env_id: str, **kwargs):
    return gym.make(env_id, disable_env_checker=True, **kwargs)


def score(env, answer: str) -> tuple[float, dict]:
    _, reward, _, _, info = env.step(f"<think>...</think><answer>{answer}</answer>")
    return reward, info


def posed(env_id: str, fen: str, **options):
    env = make(env_id)
    env.reset(options={"fen": fen, **options})
    return env


# -- mate in one -------------------------------------------------------------------------------
@pytest.mark.parametrize("answer", ["Qf8#", "Qf8", "Qf8+", "f1f8", "1. Qf8#", "Qf8#!"])
def test_mate_in_one_accepts_san_and_uci(answer):
    reward, info = score(posed("thinkgym/MateInOne-v0", MATE1_FEN), answer)
    assert reward == 1.0 and info["canonical"] == "Qf8#"


@pytest.mark.parametrize(
    "answer,reason",
    [
        ("Qf7", "stalemates"),
        ("Qc4", "stalemates"),
        ("Qh1+", "gives check but Black escapes"),
        ("Qa6", "does not give check"),
        ("Qf9", "neither SAN nor UCI"),
        ("f1f9", "neither SAN nor UCI"),
        ("Qg8", "not a legal move"),
        ("e2e4", "not a legal move"),
        ("0000", "neither SAN nor UCI"),
        ("Qf8# Qf7", "neither SAN nor UCI"),
        ("q" * 200, "at most"),
    ],
)
def test_mate_in_one_rejects_with_reason(answer, reason):
    reward, info = score(posed("thinkgym/MateInOne-v0", MATE1_FEN), answer)
    assert reward == 0.0
    assert reason in info["reason"]


def test_ambiguous_move_scores_zero():
    # Knights on b1 and f3 can both reach d2; Ra8# is the mate.
    env = posed("thinkgym/MateInOne-v0", "6k1/5ppp/8/8/8/5N2/8/RN2K3 w - - 0 1")
    reward, info = score(env, "Nd2")
    assert reward == 0.0 and "ambiguous" in info["reason"]
    assert score(env, "Nbd2")[0] == 0.0 and score(env, "Ra8#")[0] == 1.0


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=24) | st.from_regex(r"[KQRBNa-h1-9xO0=+#. -]{1,9}", fullmatch=True))
def test_parse_move_fuzz(text):
    """Any text is either one legal move or an InvalidAnswer, never another exception."""
    board = chess.Board(MATE1_FEN)
    try:
        move = parse_move(board, text)
    except InvalidAnswer:
        return
    assert move in board.legal_moves


def test_mate_in_one_reset_options_validate():
    env = make("thinkgym/MateInOne-v0")
    prompt, info = env.reset(options={"fen": MATE1_FEN})
    assert MATE1_FEN in prompt and "White to move" in prompt and info["answer"] == "Qf8#"
    assert "<answer>" in prompt
    with pytest.raises(ValueError, match="no mate in one"):
        env.reset(options={"fen": START_FEN})
    with pytest.raises(ValueError, match="not a legal position"):
        env.reset(options={"fen": "7k/8/6K1/8/8/8/8/5K2 w - - 0 1"})  # two white kings
    with pytest.raises(ValueError, match="not a legal position"):
        env.reset(options={"fen": "7k/8/6K1/8/8/8/8/7Q w - - 0 1"})  # Black, not to move, is in check
    with pytest.raises(ValueError, match="invalid FEN"):
        env.reset(options={"fen": "not a fen"})
    with pytest.raises(ValueError, match="fen"):
        env.reset(options={"position": MATE1_FEN})


@pytest.mark.parametrize(
    "env_id",
    [
        "thinkgym/MateInOne-v0",
        "thinkgym/MateInTwo-v0",
        "thinkgym/LegalMoveCount-v0",
        "thinkgym/AttackedSquares-v0",
        "thinkgym/CheckingPiece-v0",
        "thinkgym/LichessPuzzle-v0",
    ],
)
def test_explain_ends_with_answer_and_earns_full_reward(env_id):
    env = make(env_id, difficulty=2)
    _, info = env.reset(seed=11)
    explanation = env.unwrapped.explain()
    assert explanation.rstrip().endswith(info["answer"])
    _, reward, *_ = env.step(f"<think>{explanation}</think><answer>{info['answer']}</answer>")
    assert reward == 1.0


# -- mate in two -------------------------------------------------------------------------------
def _brute_force_mate(board: chess.Board, n: int) -> bool:
    """Plain minimax, independent of thinkgym.envs.chess.mate: can the side to move mate in <= n?"""
    for move in list(board.legal_moves):
        board.push(move)
        if board.is_checkmate():
            board.pop()
            return True
        ok = n > 1 and any(board.legal_moves) and all(_after(board, reply, n - 1) for reply in list(board.legal_moves))
        board.pop()
        if ok:
            return True
    return False


def _after(board: chess.Board, reply: chess.Move, n: int) -> bool:
    board.push(reply)
    try:
        return _brute_force_mate(board, n)
    finally:
        board.pop()


def test_mate_in_two_key_matches_brute_force():
    board = chess.Board(MATE2_FEN)
    keys = {m.uci() for m in forcing_moves(board, 2)}
    assert keys == {"b6g1"}
    for move in list(board.legal_moves):
        board.push(move)
        forced = not board.is_checkmate() and any(board.legal_moves) and all(_after(board, r, 1) for r in list(board.legal_moves))
        board.pop()
        assert forced == (move.uci() in keys), board.san(move)


@pytest.mark.parametrize("answer,expected", [("Qg1", 1.0), ("b6g1", 1.0), ("Qg6", 0.0), ("Qh6+", 0.0), ("Rh3+", 0.0), ("Kc4", 0.0)])
def test_mate_in_two_verification(answer, expected):
    reward, info = score(posed("thinkgym/MateInTwo-v0", MATE2_FEN), answer)
    assert reward == expected, info["reason"]
    if answer == "Qg6":
        assert "stalemates" in info["reason"]
    elif expected == 0.0:
        assert "there is no mate" in info["reason"]


def test_mate_in_two_reset_options_validate():
    env = make("thinkgym/MateInTwo-v0")
    _, info = env.reset(options={"fen": MATE2_FEN})
    assert info["answer"] == "Qg1"
    with pytest.raises(ValueError, match="has a mate in one"):
        env.reset(options={"fen": MATE1_FEN})
    with pytest.raises(ValueError, match="cannot force mate in two"):
        env.reset(options={"fen": START_FEN})


def test_generated_mates_are_real():
    for difficulty in (1, 3):
        env = make("thinkgym/MateInTwo-v0", difficulty=difficulty)
        _, info = env.reset(seed=difficulty)
        board = chess.Board(env.unwrapped.problem.fen)
        assert _brute_force_mate(board, 2) and not _brute_force_mate(board, 1)
        one = make("thinkgym/MateInOne-v0", difficulty=difficulty)
        one.reset(seed=difficulty)
        board = chess.Board(one.unwrapped.problem.fen)
        move = board.parse_san(one.unwrapped.problem.answer)
        board.push(move)
        assert board.is_checkmate()
    unique = make("thinkgym/MateInOne-v0", difficulty=3)
    for seed in range(5):
        unique.reset(seed=seed)
        assert len(unique.unwrapped.problem.mates) == 1


# -- board understanding -----------------------------------------------------------------------
def test_legal_move_count():
    env = posed("thinkgym/LegalMoveCount-v0", START_FEN)
    assert score(env, "20")[0] == 1.0
    env = posed("thinkgym/LegalMoveCount-v0", "4k3/1P6/8/8/8/8/8/4K3 w - - 0 1")  # 5 king moves + 4 promotions
    assert score(env, "9")[0] == 1.0
    for wrong in ("10", "nine", "-9", "9.5", "1e1"):
        reward, info = score(env, wrong)
        assert reward == 0.0 and info["reason"]


def test_attacked_squares_order_and_case_insensitive():
    env = posed("thinkgym/AttackedSquares-v0", START_FEN, square="b1")
    assert score(env, "c3 a3, D2")[0] == 1.0
    assert score(env, "[a3, c3, d2].")[0] == 1.0
    assert score(env, "a3, c3")[0] == 0.0
    reward, info = score(env, "a3, c3, d2, e4")
    assert reward == 0.0 and "1 listed that are not attacked" in info["reason"]
    assert score(env, "a3, c3, z9")[0] == 0.0
    white = posed("thinkgym/AttackedSquares-v0", START_FEN, square="white")
    expected = [f"{f}{r}" for f in "abcdefgh" for r in "23"] + ["b1", "c1", "d1", "e1", "f1", "g1"]
    assert score(white, " ".join(expected))[0] == 1.0
    side_to_move = posed("thinkgym/AttackedSquares-v0", START_FEN)
    assert "all of White's pieces" in side_to_move.unwrapped.problem.prompt
    with pytest.raises(ValueError, match="occupied square"):
        make("thinkgym/AttackedSquares-v0").reset(options={"fen": START_FEN, "square": "e4"})


def test_checking_piece_single_and_double_check():
    # Black's rook on e8 checks the white king on e1.
    env = posed("thinkgym/CheckingPiece-v0", "4r1k1/8/8/8/8/8/8/4K3 w - - 0 1")
    assert score(env, "e8")[0] == 1.0 and score(env, "E8.")[0] == 1.0
    reward, info = score(env, "g8")
    assert reward == 0.0 and "Black king on g8 does not give check" in info["reason"]
    # Double check: rook e8 and knight d3.
    double = posed("thinkgym/CheckingPiece-v0", "4r1k1/8/8/8/8/3n4/8/4K3 w - - 0 1")
    assert score(double, "d3, e8")[0] == 1.0 and score(double, "e8 d3")[0] == 1.0
    reward, info = score(double, "e8")
    assert reward == 0.0 and "double check" in info["reason"]
    with pytest.raises(ValueError, match="not in check"):
        env.reset(options={"fen": START_FEN})


# -- Lichess puzzles ---------------------------------------------------------------------------
def test_sample_file_rows_are_valid_puzzles():
    puzzles = load_puzzles()
    assert len(puzzles) >= 60 and len({p.puzzle_id for p in puzzles}) == len(puzzles)
    for puzzle in puzzles:
        before = chess.Board(puzzle.fen)
        board = puzzle.position()
        assert board.turn != before.turn, puzzle.puzzle_id
        line = board.copy()
        for uci in puzzle.moves[1:]:
            line.push(line.parse_uci(uci))
        if "mateIn1" in puzzle.themes:
            assert len(puzzle.player_moves) == 1 and line.is_checkmate(), puzzle.puzzle_id
        if "mateIn2" in puzzle.themes:
            assert len(puzzle.player_moves) == 2 and line.is_checkmate(), puzzle.puzzle_id
            assert _brute_force_mate(board, 2)
    for difficulty in (1, 2, 3):
        low, high = {1: (0, 1299), 2: (1300, 1899), 3: (1900, 4000)}[difficulty]
        assert len(load_puzzles(min_rating=low, max_rating=high)) >= 10
    assert {p.puzzle_id for p in load_puzzles(themes=("mateIn2",))} == {p.puzzle_id for p in puzzles if "mateIn2" in p.themes}


def test_sample_mate_in_two_rows_have_one_key():
    """LichessPuzzle credits the stored first move (or a mate in one): a second key would be a
    correct answer scored 0. Each mateIn2 row has exactly one, by this file's brute force."""
    for puzzle in load_puzzles(themes=("mateIn2",)):
        board = puzzle.position()
        keys = []
        for move in list(board.legal_moves):
            board.push(move)
            if board.is_checkmate() or (any(board.legal_moves) and all(_after(board, r, 1) for r in list(board.legal_moves))):
                keys.append(move.uci())
            board.pop()
        assert keys == [puzzle.moves[1]], (puzzle.puzzle_id, keys)


SAMPLE_JUDGE_NODES = 1_000_000
"""Twice the 500000-node MultiPV check that labelled the sample (examples/make_lichess_sample.py
re-checks every row at 2000000)."""


@pytest.mark.engine
@needs_engine
def test_sample_engine_rows_hold_at_a_deeper_search():
    """The stored first move of the engine-labelled rows (a fixed subset: every ninth) is the
    unique clearly-best move by a fresh Stockfish MultiPV 2 search above the labelling budget."""
    rows = [p for p in load_puzzles() if "mate" not in p.themes]
    assert len(rows) >= 20
    judge = chess.engine.SimpleEngine.popen_uci(stockfish_path())
    try:
        judge.configure({"Threads": 1, "Hash": 64})
        for puzzle in rows[::9]:
            board = puzzle.position()
            lines = judge.analyse(board, chess.engine.Limit(nodes=SAMPLE_JUDGE_NODES), multipv=2, game=object())
            top, second = (line["score"].pov(board.turn).score(mate_score=100_000) for line in lines)
            assert lines[0]["pv"][0].uci() == puzzle.moves[1], (puzzle.puzzle_id, board.san(lines[0]["pv"][0]))
            assert top >= 150 and top - second >= 100, (puzzle.puzzle_id, top, second)
    finally:
        judge.quit()


def _write_csv(path, rows, header="Moves,PuzzleId,Rating,FEN,Themes,Popularity"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def test_lichess_env_any_mate_counts_and_columns_by_name(tmp_path):
    # Black plays Kg8-h8; then White mates with Qf8# or Ra8#. Columns are in a non-standard order.
    path = _write_csv(tmp_path / "p.csv", ["g8h8 f1f8,abc12,900,6k1/8/6K1/8/8/8/8/R4Q2 b - - 0 1,mate mateIn1 oneMove,95"])
    env = make("thinkgym/LichessPuzzle-v0", path=path)
    prompt, info = env.reset(seed=0)
    assert "Black just played Kh8" in prompt and "White to move" in prompt and info["answer"] == "Qf8#"
    assert score(env, "Qf8#")[0] == 1.0 and score(env, "a1a8")[0] == 1.0
    assert score(env, "Qf7")[0] == 0.0 and score(env, "Kh8")[0] == 0.0
    assert env.unwrapped.explain().endswith("Qf8#")


def test_lichess_filters_and_errors(tmp_path):
    assert make("thinkgym/LichessPuzzle-v0", themes="mateIn2", min_rating=0, max_rating=4000).reset(seed=1)
    with pytest.raises(ValueError, match="no puzzle"):
        make("thinkgym/LichessPuzzle-v0", themes=("noSuchTheme",))
    with pytest.raises(PuzzleFileError, match="missing column"):
        make("thinkgym/LichessPuzzle-v0", path=_write_csv(tmp_path / "a.csv", ["x,1,900,8/8/8/8/8/8/8/8 w - - 0 1,mate"], header="Moves,PuzzleId,Rating,Fen,Themes"))
    with pytest.raises(PuzzleFileError, match="cannot read"):
        make("thinkgym/LichessPuzzle-v0", path=str(tmp_path / "missing.csv"))
    bad = make("thinkgym/LichessPuzzle-v0", path=_write_csv(tmp_path / "b.csv", ["e2e4 e7e6 a1a8,bad01,900," + START_FEN + ",opening,1"]))
    with pytest.raises(PuzzleFileError, match="bad01"):
        bad.reset(seed=0)


def test_lichess_reset_by_fen():
    puzzle = load_puzzles(SAMPLE_PATH, max_rating=1299)[5]
    env = make("thinkgym/LichessPuzzle-v0")
    _, info = env.reset(options={"fen": puzzle.position().fen()})
    assert env.unwrapped.problem.puzzle == puzzle
    with pytest.raises(ValueError, match="no selected puzzle"):
        env.reset(options={"fen": START_FEN})


# -- multi-turn forced mate --------------------------------------------------------------------
def test_forced_mate_plays_out():
    env = posed("thinkgym/ForcedMate-v0", MATE2_FEN)
    obs, reward, terminated, truncated, info = env.step("<answer>Qg1</answer>")
    assert (reward, terminated) == (0.0, False) and info["reply"] == "Kh5" and "replied Kh5" in obs
    assert info["answer"] == "Rh3#"
    _, reward, terminated, _, info = env.step("<answer>b3h3</answer>")
    assert reward == 1.0 and terminated and info["answer"] == ""


@pytest.mark.parametrize(
    "first,reason",
    [("Qg6", "stalemate"), ("Qh6+", "escapes a forced mate"), ("Qb7", "escapes a forced mate"), ("Qz1", "unparsable"), ("", "no <answer>")],
)
def test_forced_mate_failures_end_with_zero(first, reason):
    env = posed("thinkgym/ForcedMate-v0", MATE2_FEN)
    _, reward, terminated, _, info = env.step(f"<answer>{first}</answer>" if first else "I resign")
    assert reward == 0.0 and terminated and reason in info["reason"]


def test_forced_mate_options_and_config():
    env = make("thinkgym/ForcedMate-v0")
    with pytest.raises(ValueError, match="cannot force mate in 2"):
        env.reset(options={"fen": START_FEN})
    with pytest.raises(ValueError, match="mate_in"):
        make("thinkgym/ForcedMate-v0", mate_in=5)
    assert env_info("thinkgym/ForcedMate-v0").multi_turn and env_info("thinkgym/ForcedMate-v0").requires == ()


# -- Stockfish ---------------------------------------------------------------------------------
def test_missing_stockfish_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv(engine_mod.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(StockfishNotFound, match="THINKGYM_STOCKFISH"):
        stockfish_path()
    monkeypatch.delenv(engine_mod.ENV_VAR)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(engine_mod, "DEBIAN_PATH", str(tmp_path / "stockfish"))
    with pytest.raises(StockfishNotFound, match="Debian package `stockfish`"):
        stockfish_path()
    with pytest.raises(StockfishNotFound):
        make("thinkgym/BestMove-v0")
    assert env_info("thinkgym/BestMove-v0").requires == ("stockfish",)
    assert env_info("thinkgym/MateInTwo-v0").requires == ()


@pytest.mark.engine
@needs_engine
def test_best_move_scores_by_engine_loss():
    env = posed("thinkgym/BestMove-v0", HANGING_QUEEN_FEN)
    assert env.unwrapped.problem.answer == "Bxg5"
    assert score(env, "Bxg5")[0] == 1.0 and score(env, "c1g5")[0] == 1.0
    reward, info = score(env, "a3")
    assert reward == 0.0 and "centipawns" in info["reason"]
    assert score(env, "Bxg9")[0] == 0.0
    assert env.unwrapped.explain().endswith("Bxg5")
    with pytest.raises(ValueError, match="no unique winning move"):
        env.reset(options={"fen": START_FEN})
    env.close()


@pytest.mark.engine
@needs_engine
def test_best_move_problem_pickles_and_ignores_isolation(monkeypatch):
    env = posed("thinkgym/BestMove-v0", HANGING_QUEEN_FEN)
    copy = pickle.loads(pickle.dumps(env.unwrapped.problem))
    assert not any(isinstance(value, Engine) for value in vars(copy).values())  # scored by its table
    from thinkgym.envs.chess.best_move import verify

    assert verify(copy, "Bxg5").score == 1.0 and verify(copy, "a3").score == 0.0
    monkeypatch.setenv("THINKGYM_ISOLATE_VERIFIERS", "1")
    reward, info = score(env, "a3")
    assert reward == 0.0 and "centipawns" in info["reason"]
    env.close()


@pytest.mark.engine
@needs_engine
def test_engine_is_deterministic_restarts_and_closes():
    engine = Engine(nodes=3000)
    board = chess.Board(HANGING_QUEEN_FEN)
    first = engine.analyse(board, multipv=2)
    pid = engine.pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    again = engine.analyse(board, multipv=2)  # restarted transparently
    assert engine.pid not in (None, pid)
    assert [(i["pv"][0], i["score"]) for i in first] == [(i["pv"][0], i["score"]) for i in again]
    new_pid = engine.pid
    engine.close()
    assert engine.pid is None
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{new_pid}") and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{new_pid}"), "close() left the engine process running"


@pytest.mark.engine
@needs_engine
def test_env_close_releases_engine():
    env = posed("thinkgym/BestMove-v0", HANGING_QUEEN_FEN)
    pid = env.unwrapped.engine.pid
    assert pid is not None and os.path.exists(f"/proc/{pid}")
    env.close()
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")
    assert env.unwrapped.engine.pid is None


@pytest.mark.engine
@needs_engine
def test_unclosed_engine_does_not_hang_interpreter_exit():
    code = (
        "import chess; from thinkgym.envs.chess.engine import Engine; "
        "e = Engine(nodes=500); e.analyse(chess.Board()); print(e.pid)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not os.path.exists(f"/proc/{int(done.stdout.strip())}")


# -- levels pose different problems ------------------------------------------------------------
LEVEL_SEEDS = {"thinkgym/ForcedMate-v0": {3: 8}}  # mate in 3 takes ~0.4 s a problem; all else 30 seeds
PYTHON_CHESS_ENVS = [e for e in thinkgym.list_envs(family="chess") if not env_info(e).requires]


@pytest.mark.parametrize("env_id", PYTHON_CHESS_ENVS, ids=PYTHON_CHESS_ENVS)
def test_levels_pose_different_positions_for_the_same_seed(env_id):
    counts = LEVEL_SEEDS.get(env_id, {})
    envs = {d: make(env_id, difficulty=d) for d in (1, 2, 3)}
    for seed in range(30):
        fens = {d: envs[d].reset(seed=seed) and envs[d].unwrapped.problem.fen for d in envs if seed < counts.get(d, 30)}
        assert len(set(fens.values())) == len(fens), (seed, fens)


def _winning_kind(board: chess.Board, move: chess.Move) -> int:
    """BestMove's level by the winning move, computed here: 1 free capture, 2 other capture, 3 none."""
    if not board.is_capture(move):
        return 3
    values = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 100}
    taken = values[board.piece_type_at(move.to_square) or chess.PAWN]  # en passant takes a pawn
    defended = bool(board.attackers(not board.turn, move.to_square))
    return 1 if not defended or taken > values[board.piece_type_at(move.from_square)] else 2


def test_best_move_level_kinds_are_disjoint():
    """A move has one kind, and a BestMove problem has one full-credit move, so no position can
    be posed at two levels; checked for every legal move of random positions."""
    from thinkgym.envs.chess.best_move import _kind_matches
    from thinkgym.envs.chess.common import random_game_position

    rng = np.random.default_rng(0)
    for _ in range(200):
        board = random_game_position(rng, 6, 40)
        for move in board.legal_moves if board is not None else ():
            levels = [d for d in (1, 2, 3) if _kind_matches(board, move, d)]
            assert levels == [_winning_kind(board, move)], (board.fen(), board.san(move))


@pytest.mark.engine
@needs_engine
def test_best_move_levels_draw_different_positions():
    seen = {}
    for difficulty in (1, 2, 3):
        env = make("thinkgym/BestMove-v0", difficulty=difficulty)
        env.reset(seed=4)
        board = chess.Board(env.unwrapped.problem.fen)
        assert _winning_kind(board, board.parse_san(env.unwrapped.problem.answer)) == difficulty
        seen[difficulty] = board.fen()
        env.close()
    assert len(set(seen.values())) == 3
