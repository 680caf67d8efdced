/**
 * Builds the reading: words separated by single spaces, pause marks attached to the word before them,
 * sentences ending at ". ! ?" (vi-reading.md "Output").
 */
const SENTENCE_END = new Set(['.', '!', '?']);

type Item = { word: string } | { mark: string };

export class ReadingBuilder {
  private readonly items: Item[] = [];

  words(words: readonly string[]): void {
    for (const w of words) if (w) this.items.push({ word: w });
  }

  /**
   * Adds a pause mark unless nothing has been said since the last one; a sentence end replaces a weaker
   * mark just before it ("…, ." → "."). Returns whether the mark was kept.
   */
  pause(mark: string): boolean {
    const last = this.items[this.items.length - 1];
    if (!last) return false;
    if ('mark' in last) {
      if (SENTENCE_END.has(mark) && !SENTENCE_END.has(last.mark)) {
        last.mark = mark;
        return true;
      }
      return false;
    }
    this.items.push({ mark });
    return true;
  }

  sentences(): string[] {
    const sentences: string[] = [];
    let current: string[] = [];
    for (const item of this.items) {
      if ('word' in item) {
        current.push(item.word);
        continue;
      }
      if (current.length > 0) current[current.length - 1] += item.mark;
      if (SENTENCE_END.has(item.mark)) {
        if (current.length > 0) sentences.push(current.join(' '));
        current = [];
      }
    }
    if (current.length > 0) {
      // A trailing "," or ":" (text ending in a bracket, say) is not a pause before anything.
      current[current.length - 1] = current[current.length - 1]!.replace(/[,;:]$/u, '');
      sentences.push(current.join(' '));
    }
    return sentences;
  }
}
