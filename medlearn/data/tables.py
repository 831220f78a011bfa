"""Conversations as a pandas table, for looking at a dataset: first question, first answer, lengths."""


def first_turn(messages, role):
    """The content of the first turn with `role` ("" when there is none)."""
    return next((turn["content"] or "" for turn in messages if turn["role"] == role), "")


def to_qa_table(dataset):
    """A DataFrame with each row's first question and answer and their lengths in words."""
    import pandas as pd

    questions = [first_turn(messages, "user") for messages in dataset["messages"]]
    answers = [first_turn(messages, "assistant") for messages in dataset["messages"]]
    table = pd.DataFrame({"question": questions, "answer": answers})
    return table.assign(question_words=table.question.str.split().str.len(),
                        answer_words=table.answer.str.split().str.len())
