/** Keeps the last `size` values (ids to read back), so memory stays bounded on long runs. */
export class Recent<T> {
  private readonly items: T[] = [];
  constructor(private readonly size = 500) {}
  add(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  pick(): T | undefined {
    return this.items[Math.floor(Math.random() * this.items.length)];
  }
  take(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items.splice(Math.floor(Math.random() * this.items.length), 1)[0];
  }
}
