import { describe, expect, it } from "vitest";
import { findSensitiveData, ibanChecksumValid, luhnValid } from "./sensitive-data.js";

const personal = (text: string) => findSensitiveData(text).personalData;

describe("findSensitiveData", () => {
  it.each([
    ["Mail jane.doe@acme-corp.io today.", ["email address"]],
    ["Mail user@example.com or root@localhost.", []],
    ["Call +1 415-555-0132.", ["phone number"]],
    ["Call +442079460958.", ["phone number"]],
    ["Call (030) 1234 5678.", ["phone number"]],
    ["Call 415.555.0132.", ["phone number"]],
    ["Released 2024-07-18, version 10.2.3, build 123-456-78.", []],
    ["Add +2 - 3 to the total.", []],
    ["IBAN GB82 WEST 1234 5698 7654 32.", ["IBAN"]],
    ["IBAN GB82WEST12345698765432.", ["IBAN"]],
    ["Reference GB82 WEST 1234 5698 7654 33.", []],
    ["Card 5454-5454-5454-5454.", ["payment card number"]],
    ["Card 5454 5454 5454 5455 (fails Luhn).", []],
    ["Stripe test card 4242 4242 4242 4242.", []],
    ["Trace id 1234567890123456.", []],
  ])("in %j finds %j", (text, kinds) => {
    expect(personal(text)).toEqual(kinds);
  });

  it("names secrets by kind, through the pair safety filter's rules", () => {
    expect(findSensitiveData("token ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5").secrets).toEqual([
      "GitHub token",
    ]);
    expect(findSensitiveData("key sk-xxxxxxxxxxxxxxxxxxxxxxxx is a placeholder").secrets).toEqual([]);
    expect(findSensitiveData("short words only, nothing key-like").secrets).toEqual([]);
  });
});

describe("checksums", () => {
  it("validates IBANs by ISO 13616 mod 97", () => {
    expect(ibanChecksumValid("DE89370400440532013000")).toBe(true);
    expect(ibanChecksumValid("DE89370400440532013001")).toBe(false);
    expect(ibanChecksumValid("DE89-3704")).toBe(false);
  });

  it("validates card numbers by Luhn", () => {
    expect(luhnValid("4539148803436467")).toBe(true);
    expect(luhnValid("4539148803436468")).toBe(false);
    expect(luhnValid("79927398713")).toBe(true);
  });
});
