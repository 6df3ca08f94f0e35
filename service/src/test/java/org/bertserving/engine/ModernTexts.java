package org.bertserving.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * Texts that exercise what differs between tokenizers and models at the edges: long inputs past
 * every truncation, accents, CJK, emoji, odd whitespace and control characters, literal special
 * tokens. Shared by the reference tests of the sentence-embedding models.
 */
final class ModernTexts {
  private ModernTexts() {}

  static List<String> all() {
    String story =
        "The quick brown fox jumps over the lazy dog while the cat, unimpressed, "
            + "watches from the window and wonders why anyone would run at all. ";
    List<String> texts =
        new ArrayList<>(
            List.of(
                "hello world",
                "How do I cook rice in a pot?",
                "A man is playing a guitar on the street.",
                "The weather is lovely today, isn't it?",
                "Machine learning models map sentences to dense vectors.",
                "what is the capital of France",
                "Paris is the capital and most populous city of France.",
                "a",
                "?!",
                "1234567890 3.14159 -42 1e-12",
                "https://example.com/path?query=1&x=y#frag",
                "user@example.org wrote: \"don't panic\" — said the guide…",
                "naïve café résumé Ångström façade São Paulo Zürich",
                "ÉCOLE ÉLÉMENTAIRE À PARIS, Crème Brûlée",
                "Straße, Mädchen, Größe, Übermut",
                "İstanbul'da ılık bir gün; ĞÜŞİÖÇ",
                "ΟΔΥΣΣΕΥΣ και Σίσυφος: ο λόγος",
                "Москва — столица России.",
                "深度学习改变了自然语言处理。",
                "我爱北京天安门，天安门上太阳升。",
                "東京は日本の首都です。ひらがなとカタカナ。",
                "한국어 문장도 처리할 수 있습니다.",
                "مرحبا بالعالم",
                "שלום עולם",
                "नमस्ते दुनिया",
                "สวัสดีชาวโลก",
                "emoji 😀 🎉 👍🏽 🥲 👨‍👩‍👧 ❤️ 🇫🇷",
                "I ❤ NY ☕ ✓ ★ ♫ ∑ ∞ ≠ ≤ √",
                "Ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ １２３",
                "tabs\tand\nnewlines\r\nand  double  spaces",
                "no\u00A0break\u2028line\u2029para\u3000ideographic",
                "zero\u200Bwidth\u200Djoiner\uFEFFbom",
                "control\u0007bell\u001Funit\u0085next",
                "private\uE000use and unassigned\u0378char",
                "a literal [SEP] and [CLS] in the text",
                "[UNK] [MASK] [PAD]",
                "supercalifragilisticexpialidocious antidisestablishmentarianism",
                "x".repeat(150) + " long word",
                "Floccinaucinihilipilification is a long word.",
                "C++ and C# and F# are languages; so is Objective-C.",
                "The year 2024: Q1 revenue +12.5% (YoY).",
                "search_query: what is a sentence embedding?",
                "Represent this sentence for searching relevant passages: rice",
                "He said: «Bonjour!» and left.",
                "¿Dónde está la biblioteca? ¡Aquí!",
                "Ça va? Oui, ça va très bien.",
                "mixed 中文 and English 日本語 text"));
    texts.add(story.repeat(3)); // ~90 tokens
    texts.add(story.repeat(8)); // past 128
    texts.add(story.repeat(12)); // past 256
    texts.add(story.repeat(20)); // past 512
    texts.add("深度学习".repeat(150)); // 600 CJK characters, one token each
    texts.add("word ".repeat(700));
    return texts;
  }
}
