"""The feature space: word and char TF-IDF on normalised text, lexicon cues, the touchpoint kind.

The TF-IDF vocabularies and weights are fitted with scikit-learn; vectors are then built here,
one message at a time, from the fitted vocabularies. That keeps prediction well under a
millisecond (no per-call validation overhead), and units() maps any column back to the words
of the message that produced it, which is what the "why" terms are made from.
"""
import math
from collections import Counter

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.labels import TOUCHPOINT_KINDS
from classifier.lexicon import CONCEPTS, find_cues
from classifier.text import char_ngrams, word_ngrams

# Relative weight of each block in the final vector; the TF-IDF blocks are each L2-normalised.
_EMPTY_COLUMNS = np.zeros(0, dtype=np.int64)
_EMPTY_VALUES = np.zeros(0, dtype=np.float32)
DEFAULT_BLOCK_WEIGHTS = {"word": 1.0, "char": 1.4, "cue": 0.25, "touchpoint": 0.3}


class FeatureSpace:
    """Turns normalised text plus a touchpoint kind into one sparse vector."""

    def __init__(self, word_index, word_idf, char_index, char_idf, weights):
        self.word_index = word_index
        self.word_idf = word_idf
        self.char_index = char_index
        self.char_idf = char_idf
        self.weights = dict(weights)
        self.char_offset = len(word_index)
        self.cue_offset = self.char_offset + len(char_index)
        self.touchpoint_offset = self.cue_offset + len(CONCEPTS)
        self.n_features = self.touchpoint_offset + len(TOUCHPOINT_KINDS)
        self.cue_column = {name: self.cue_offset + i for i, name in enumerate(CONCEPTS)}
        self.touchpoint_column = {kind: self.touchpoint_offset + i
                                  for i, kind in enumerate(TOUCHPOINT_KINDS)}

    @classmethod
    def fit(cls, normalised_texts, min_char_df=2, min_word_df=1, weights=None):
        """Fit the word and char vocabularies and IDF weights on normalised texts."""
        def fitted(analyzer, min_df):
            vectorizer = TfidfVectorizer(analyzer=analyzer, min_df=min_df, sublinear_tf=True,
                                         lowercase=False, dtype=np.float32)
            vectorizer.fit(normalised_texts)
            index = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
            return index, vectorizer.idf_.astype(np.float32)

        word_index, word_idf = fitted(word_ngrams, min_word_df)
        char_index, char_idf = fitted(char_ngrams, min_char_df)
        return cls(word_index, word_idf, char_index, char_idf, weights or DEFAULT_BLOCK_WEIGHTS)

    @staticmethod
    def _tfidf_block(grams, index, idf, offset, weight):
        """Return (columns, values) of one L2-normalised, sublinear TF-IDF block."""
        columns, counts = [], []
        for term, count in Counter(grams).items():
            column = index.get(term)
            if column is not None:
                columns.append(column)
                counts.append(count)
        if not columns:
            return _EMPTY_COLUMNS, _EMPTY_VALUES
        columns = np.array(columns, dtype=np.int64)
        values = idf[columns] * (1.0 + np.log(np.array(counts, dtype=np.float32)))
        values *= weight / float(np.sqrt(np.dot(values, values)))
        return columns + offset, values

    def vector(self, normalised, touchpoint_kind=None):
        """Return (columns, values, cues) for one message; cues as lexicon.find_cues gives."""
        word_columns, word_values = self._tfidf_block(
            word_ngrams(normalised), self.word_index, self.word_idf, 0, self.weights["word"])
        char_columns, char_values = self._tfidf_block(
            char_ngrams(normalised), self.char_index, self.char_idf, self.char_offset,
            self.weights["char"])
        cues = find_cues(normalised)
        extra_columns, extra_values = [], []
        for concept, phrases in cues.items():
            if concept in self.cue_column:  # a concept newer than this model is ignored
                extra_columns.append(self.cue_column[concept])
                extra_values.append(self.weights["cue"] * (1.0 + math.log(len(phrases))))
        column = self.touchpoint_column.get(touchpoint_kind)
        if column is not None:
            extra_columns.append(column)
            extra_values.append(self.weights["touchpoint"])
        columns = np.concatenate([word_columns, char_columns,
                                  np.array(extra_columns, dtype=np.int64)])
        values = np.concatenate([word_values, char_values,
                                 np.array(extra_values, dtype=np.float32)])
        return columns, values.astype(np.float32, copy=False), cues

    def units(self, column, words, cues, touchpoint_kind):
        """Return the readable units behind one column of a message's vector.

        A word n-gram stands for itself, a char n-gram for the words it was cut from, a cue
        for the phrases it matched, the touchpoint column for "@<kind>".
        """
        if column < self.char_offset:
            return (self._terms()[column],)
        if column < self.cue_offset:
            gram = self._terms()[column]
            return tuple(word for word in words if gram in f" {word} ")
        if column < self.touchpoint_offset:
            return tuple(cues.get(CONCEPTS[column - self.cue_offset], ()))
        return (f"@{touchpoint_kind}",)

    def _terms(self):
        """Return column → term for the word and char blocks (built on first use, not saved)."""
        terms = self.__dict__.get("_term_list")
        if terms is None:
            terms = [""] * self.cue_offset
            for term, column in self.word_index.items():
                terms[column] = term
            for term, column in self.char_index.items():
                terms[self.char_offset + column] = term
            self._term_list = terms
        return terms

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_term_list", None)  # rebuilt on demand; keeps the model file small
        return state

    def matrix(self, normalised_texts, touchpoint_kinds):
        """Return the CSR matrix of many messages (rows in the order given)."""
        indptr, indices, data = [0], [], []
        for text, kind in zip(normalised_texts, touchpoint_kinds, strict=True):
            columns, values, _ = self.vector(text, kind)
            indices.append(columns)
            data.append(values)
            indptr.append(indptr[-1] + len(columns))
        return sparse.csr_matrix(
            (np.concatenate(data) if data else np.zeros(0, np.float32),
             np.concatenate(indices) if indices else np.zeros(0, np.int64), indptr),
            shape=(len(indptr) - 1, self.n_features), dtype=np.float32)
