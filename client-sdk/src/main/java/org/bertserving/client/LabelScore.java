package org.bertserving.client;

/**
 * One label of a classifier's answer ({@link BertClient#classify}).
 *
 * @param label the label's name, as the model's {@code id2label} gives it
 * @param score its probability (softmax over the labels; sigmoid for a single label)
 */
public record LabelScore(String label, double score) {}
