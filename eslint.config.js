// Lint rules for troupe's TypeScript: typescript-eslint's type-aware
// recommended set, plus the rules that catch what bites an orchestrator most:
// a promise nobody awaits (a failure that vanishes, a host never discarded)
// and a switch that forgets a case of a union (a new event or backend kind).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "examples/", "share/", "bin/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's describe/test return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      // An async method that happens not to await still keeps its interface's promise contract.
      "@typescript-eslint/require-await": "off",
      // Rethrowing what was caught (unknown) is fine; new errors must be Errors.
      "@typescript-eslint/only-throw-error": ["error", { allowThrowingUnknown: true }],
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // Terminals and tar paths: control characters in patterns are on purpose.
      "no-control-regex": "off",
      // A defensive first value (`let last = ""` before a retry loop) is not a bug.
      "no-useless-assignment": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
