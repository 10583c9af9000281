import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import { RuleFile } from '../rules/rule-file.ts'
import type { App, AppDeps } from './app.ts'

const Rules = Type.Object({
  rules: Type.Array(Type.Composite([RuleFile, Type.Object({ file: Type.String() })])),
  failures: Type.Array(
    Type.Object({
      file: Type.String(),
      code: Type.String(),
      reason: Type.String(),
      running: Type.Optional(Type.String()),
    }),
  ),
  warnings: Type.Optional(Type.Array(Type.Object({ file: Type.String(), warning: Type.String() }))),
  runtimeErrors: Type.Array(
    Type.Object({ rule: Type.String(), count: Type.Integer(), lastError: Type.String() }),
  ),
})

export const ruleRoutes = (deps: AppDeps) => async (app: App) => {
  app.get('/rules', { config: { roles: ROLES_OF.staff }, schema: { response: { 200: Rules } } }, async () => {
    const { rules, failures, runtimeErrors, warnings } = deps.rules()
    return { rules, failures, runtimeErrors, warnings: warnings ?? [] }
  })
}
