"""Train gensim's skip-gram Word2Vec on a sentence file, the reference side of the w2v_vs_gensim benchmark.

Usage: w2v_gensim.py SENTENCES OUT_VECTORS [--workers N] [--seed N]

SENTENCES has one playlist per line, track ids separated by spaces. The vectors are written to OUT_VECTORS
in the word2vec text format. The last line printed is a JSON report with the training tokens per second.
"""

import argparse
import json
import time

import gensim
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sentences", help="sentence file, one playlist of track ids per line")
    parser.add_argument("out", help="output file of vectors in the word2vec text format")
    parser.add_argument("--workers", type=int, default=2, help="training threads (default 2)")
    parser.add_argument("--seed", type=int, default=2018, help="seed of the initial vectors (default 2018)")
    args = parser.parse_args()

    # The same settings as our W2V baseline's defaults.
    model = Word2Vec(
        sg=1,
        window=5,
        vector_size=100,
        negative=5,
        epochs=5,
        min_count=1,
        sample=1e-3,
        alpha=0.025,
        min_alpha=0.0001,
        workers=args.workers,
        seed=args.seed,
    )
    sentences = LineSentence(args.sentences)
    model.build_vocab(sentences)

    # Only train() is timed, as our side times only the training epochs.
    started = time.perf_counter()
    trained, raw = model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    seconds = time.perf_counter() - started

    model.wv.save_word2vec_format(args.out, binary=False)
    print(
        json.dumps(
            {
                "tokens_per_s": raw / seconds,
                "seconds": seconds,
                "raw_tokens": raw,
                "trained_tokens": trained,
                "vocabulary": len(model.wv),
                "workers": args.workers,
                "gensim": gensim.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
