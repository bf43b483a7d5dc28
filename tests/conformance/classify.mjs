// Classifies a cache-tests results file the way cache-tests.fyi does, with the suite's own rules.
// Run from the root of a copy of the suite: node classify.mjs results.json
// Prints one JSON object: test id -> {kind, result}, where result is a key of the suite's
// resultTypes ("pass", "fail", "optional_fail", "yes", "no", "setup_fail", "harness_fail",
// "dependency_fail", "retry", "untested"), dependencies honoured as on the website.
import fs from 'fs'
import { determineTestResult, resultTypes } from './test-engine/lib/results.mjs'
import suites from './tests/index.mjs'

const results = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const names = new Map(Object.entries(resultTypes).map(([name, type]) => [type, name]))
const classified = {}
for (const suite of suites) {
  for (const test of suite.tests) {
    const type = determineTestResult(suites, test.id, results, true)
    classified[test.id] = { kind: test.kind || 'required', result: names.get(type) }
  }
}
console.log(JSON.stringify(classified, null, 1))
