/** One page of a list read by cursor: every paged `list…` of the store answers with it. */
export interface Page<T> {
  items: T[];
  /** Pass as `after` to read the next page; null when this is the last page. */
  nextCursor: string | null;
}
