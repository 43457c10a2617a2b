/** Who is acting. Every repository function takes one and scopes every query by it. */
export interface Actor {
  userId: string;
}
